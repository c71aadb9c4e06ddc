import type { JWK } from 'jose';

const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
};

/** The key type a JWS algorithm needs. */
export function keyTypeFor(alg: string): string | undefined {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return 'RSA';
  if (alg in EC_CURVES) return 'EC';
  if (alg === 'EdDSA') return 'OKP';
  if (/^HS(256|384|512)$/.test(alg)) return 'oct';
  return undefined;
}

/**
 * The trusted keys that could have signed a token with this `alg` and `kid`. Keys come only from
 * the issuer's configured source; nothing in the token header (jwk, jku, x5u, x5c) is consulted.
 * A key published without a `kid` matches any `kid` (a PEM file names no key id); keys whose
 * `kid` equals the token's come first.
 */
export function selectKeys(keys: readonly JWK[], alg: string, kid: string | undefined): JWK[] {
  const kty = keyTypeFor(alg);
  const usable = keys.filter((jwk) => {
    if (jwk.kty !== kty) return false;
    if (typeof jwk.alg === 'string' && jwk.alg !== alg) return false;
    if (typeof jwk.use === 'string' && jwk.use !== 'sig') return false;
    if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false;
    if (kty === 'EC' && jwk.crv !== EC_CURVES[alg]) return false;
    if (kty === 'OKP' && jwk.crv !== 'Ed25519' && jwk.crv !== 'Ed448') return false;
    return kid === undefined || jwk.kid === undefined || jwk.kid === kid;
  });
  return kid === undefined
    ? usable
    : [...usable.filter((k) => k.kid === kid), ...usable.filter((k) => k.kid !== kid)];
}

/** True when some key carries exactly this `kid`: used to decide whether a refetch could help. */
export function hasKid(keys: readonly JWK[], kid: string | undefined): boolean {
  return kid === undefined || keys.some((k) => k.kid === kid);
}
