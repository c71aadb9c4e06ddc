import { ResolutionError } from '@resolver/reasons';

/**
 * What a presented token is, decided by its shape alone (never by trying one reading after
 * another): a JWS compact serialization (RFC 7515 §7.1: three base64url segments), a JWE compact
 * serialization (RFC 7516 §7.1: five), a PASETO v4.public token, or anything else, `opaque`.
 */
export type TokenFormat = 'jws' | 'jwe' | 'paseto' | 'opaque';

/** Every format, in a fixed order (a closed set: metrics label by it). */
export const TOKEN_FORMATS: readonly TokenFormat[] = ['jws', 'jwe', 'paseto', 'opaque'];

/** The one PASETO version and purpose accepted. */
export const PASETO_V4_PUBLIC = 'v4.public.';

/**
 * A PASETO header (`version.purpose.`): `v` and a version number, a purpose in lower case. A JWS
 * or JWE header segment is base64url of `{`, so it starts with `e`, never with `v`: the two can
 * never be confused. Anchored, with no backtracking.
 */
const PASETO_HEADER = /^v(\d{1,3})\.([a-z]{1,16})\./;

/** Segments of base64url characters (empty ones too: the decode step names what is missing). */
const JWS_SHAPE = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const JWE_SHAPE =
  /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * The token's format, by shape. A PASETO header other than `v4.public.` is refused here
 * (TOKEN_MALFORMED naming the version and purpose): `v4.local` is symmetric (a shared secret, not
 * an issuer's signature) and v1 to v3 are other algorithms, none of which this resolver
 * verifies. Cheap: one or two anchored regular expression tests, run only when the
 * verified-token cache did not answer.
 */
export function classifyTokenFormat(token: string): TokenFormat {
  if (token.charCodeAt(0) === 0x76 /* v */) {
    const paseto = PASETO_HEADER.exec(token);
    if (paseto) {
      if (token.startsWith(PASETO_V4_PUBLIC)) return 'paseto';
      const [, version, purpose] = paseto;
      throw new ResolutionError(
        'TOKEN_MALFORMED',
        `PASETO v${version}.${purpose} tokens are not accepted: only v4.public`,
      );
    }
  }
  if (JWS_SHAPE.test(token)) return 'jws';
  if (JWE_SHAPE.test(token)) return 'jwe';
  return 'opaque';
}
