import { ResolutionError } from '@resolver/reasons';

/** A token whose shape was checked and whose header and payload were decoded, but not trusted. */
export interface DecodedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly sizeBytes: number;
  readonly signatureLength: number;
}

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Checks size and shape before any parsing that could be expensive or confused: JWS compact
 * serialisation only (three base64url segments, JSON object header and payload). Five segments
 * is a JWE, which the resolver does not accept. Throws `TOKEN_TOO_LARGE` / `TOKEN_MALFORMED`.
 */
export function decodeCompactToken(token: string, maxBytes: number): DecodedToken {
  // Length in UTF-16 units bounds the byte length from below; check cheaply first.
  if (token.length > maxBytes || Buffer.byteLength(token, 'utf8') > maxBytes) {
    throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
  }
  const segments = token.split('.');
  if (segments.length !== 3) {
    throw new ResolutionError(
      'TOKEN_MALFORMED',
      segments.length === 5
        ? 'JWE tokens are not accepted'
        : `expected 3 segments, got ${segments.length}`,
    );
  }
  const [h, p, s] = segments as [string, string, string];
  if (
    !h ||
    !p ||
    !BASE64URL_SEGMENT.test(h) ||
    !BASE64URL_SEGMENT.test(p) ||
    !BASE64URL_SEGMENT.test(s)
  ) {
    throw new ResolutionError('TOKEN_MALFORMED', 'segments must be non-empty base64url');
  }
  const header = decodeJsonObject(h, 'header');
  const payload = decodeJsonObject(p, 'payload');
  if (typeof header.alg !== 'string' || header.alg === '') {
    throw new ResolutionError('TOKEN_MALFORMED', 'header "alg" must be a non-empty string');
  }
  return {
    header,
    payload,
    sizeBytes: Buffer.byteLength(token, 'utf8'),
    signatureLength: s.length,
  };
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  // base64url without padding: a length of 1 mod 4 cannot come from any byte string.
  if (segment.length % 4 === 1)
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
