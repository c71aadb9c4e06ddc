import { ResolutionError } from '@resolver/reasons';

/** Room for the scheme and whitespace around a token of the maximum size. */
const HEADER_SLACK = 64;

/**
 * Picks the token from a request: an explicit token field wins; otherwise the `Authorization`
 * header's `Bearer` credentials (RFC 6750, scheme case-insensitive). Bounded before any regex
 * runs on attacker-sized input.
 */
export function extractToken(
  field: unknown,
  authorization: string | undefined,
  maxBytes: number,
): string {
  if (field !== undefined && field !== null && field !== '') {
    if (typeof field !== 'string')
      throw new ResolutionError('TOKEN_MALFORMED', 'the token field must be a string');
    if (field.length > maxBytes + HEADER_SLACK)
      throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
    const token = field.trim();
    if (token === '') throw new ResolutionError('TOKEN_MISSING', 'the token field is blank');
    return checkSize(token, maxBytes);
  }
  if (typeof authorization !== 'string' || authorization.trim() === '') {
    throw new ResolutionError('TOKEN_MISSING', 'no token field and no Authorization header');
  }
  if (authorization.length > maxBytes + HEADER_SLACK) {
    throw new ResolutionError('TOKEN_TOO_LARGE', `Authorization header exceeds ${maxBytes} bytes`);
  }
  const match = /^\s*bearer(?:\s+(.*?))?\s*$/is.exec(authorization);
  if (!match)
    throw new ResolutionError('TOKEN_MISSING', 'Authorization header is not a Bearer credential');
  const token = match[1] ?? '';
  if (token === '') throw new ResolutionError('TOKEN_MISSING', 'empty Bearer credential');
  if (/\s/.test(token))
    throw new ResolutionError('TOKEN_MALFORMED', 'Bearer credential contains whitespace');
  return checkSize(token, maxBytes);
}

function checkSize(token: string, maxBytes: number): string {
  if (token.length > maxBytes)
    throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
  return token;
}
