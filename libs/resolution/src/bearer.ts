import { ResolutionError } from '@resolver/reasons';

/** Room for the scheme and whitespace around a token of the maximum size. */
const HEADER_SLACK = 64;
const BEARER = 'bearer';
const DPOP = 'dpop';

/** How the token came: a request field, or the Authorization header's scheme. */
export type CredentialScheme = 'field' | 'bearer' | 'dpop';

/**
 * Picks the token from a request: an explicit token field wins; otherwise the `Authorization`
 * header's `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1) credentials, scheme case-insensitive.
 * Bounded before any regex runs on attacker-sized input.
 */
export function extractToken(
  field: unknown,
  authorization: string | undefined,
  maxBytes: number,
): string {
  return extractCredential(field, authorization, maxBytes).token;
}

/** {@link extractToken}, and the scheme the token came with. */
export function extractCredential(
  field: unknown,
  authorization: string | undefined,
  maxBytes: number,
): { token: string; scheme: CredentialScheme } {
  if (field !== undefined && field !== null && field !== '') {
    if (typeof field !== 'string')
      throw new ResolutionError('TOKEN_MALFORMED', 'the token field must be a string');
    if (field.length > maxBytes + HEADER_SLACK)
      throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
    const token = field.trim();
    if (token === '') throw new ResolutionError('TOKEN_MISSING', 'the token field is blank');
    return { token: checkSize(token, maxBytes), scheme: 'field' };
  }
  if (typeof authorization !== 'string' || authorization.trim() === '') {
    throw new ResolutionError('TOKEN_MISSING', 'no token field and no Authorization header');
  }
  if (authorization.length > maxBytes + HEADER_SLACK) {
    throw new ResolutionError('TOKEN_TOO_LARGE', `Authorization header exceeds ${maxBytes} bytes`);
  }
  // Scheme, then whitespace, then the credentials: sliced by hand, since a lazy regex over a
  // token-sized header was a visible cost on the warm path. trim() strips what \s matches.
  const value = authorization.trim();
  let scheme: CredentialScheme = 'bearer';
  let rest = value.slice(BEARER.length);
  if (value.slice(0, BEARER.length).toLowerCase() !== BEARER) {
    scheme = 'dpop';
    rest = value.slice(DPOP.length);
    if (value.slice(0, DPOP.length).toLowerCase() !== DPOP) rest = 'x';
  }
  if (rest !== '' && !/^\s/.test(rest))
    throw new ResolutionError(
      'TOKEN_MISSING',
      'Authorization header is not a Bearer or DPoP credential',
    );
  const name = scheme === 'bearer' ? 'Bearer' : 'DPoP';
  const token = rest.trimStart();
  if (token === '') throw new ResolutionError('TOKEN_MISSING', `empty ${name} credential`);
  if (/\s/.test(token))
    throw new ResolutionError('TOKEN_MALFORMED', `${name} credential contains whitespace`);
  return { token: checkSize(token, maxBytes), scheme };
}

function checkSize(token: string, maxBytes: number): string {
  if (token.length > maxBytes)
    throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
  return token;
}
