import type { JWK } from 'jose';
import { own } from './compact-token';

const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
};

/** The key type a JWS algorithm needs. */
export function keyTypeFor(alg: string): string | undefined {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return 'RSA';
  if (Object.hasOwn(EC_CURVES, alg)) return 'EC';
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
  // A JWK's members are read as own properties only: a key set is JSON from the network, and an
  // inherited `alg` or `kid` must never decide which key verifies.
  const usable = keys.filter((key) => {
    const jwk = (name: string) => own(key, name);
    if (jwk('kty') !== kty) return false;
    const keyAlg = jwk('alg');
    if (typeof keyAlg === 'string' && keyAlg !== alg) return false;
    const use = jwk('use');
    if (typeof use === 'string' && use !== 'sig') return false;
    const ops = jwk('key_ops');
    if (Array.isArray(ops) && !ops.includes('verify')) return false;
    const crv = jwk('crv');
    if (kty === 'EC' && crv !== EC_CURVES[alg]) return false;
    if (kty === 'OKP' && crv !== 'Ed25519' && crv !== 'Ed448') return false;
    const keyKid = jwk('kid');
    return kid === undefined || keyKid === undefined || keyKid === kid;
  });
  const kidOf = (key: JWK) => own(key, 'kid');
  return kid === undefined
    ? usable
    : [...usable.filter((k) => kidOf(k) === kid), ...usable.filter((k) => kidOf(k) !== kid)];
}

/** True when some key carries exactly this `kid`: used to decide whether a refetch could help. */
export function hasKid(keys: readonly JWK[], kid: string | undefined): boolean {
  return kid === undefined || keys.some((k) => own(k, 'kid') === kid);
}
