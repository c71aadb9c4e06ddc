import { hash } from 'node:crypto';

/** The required members of each key type, in the lexicographic order RFC 7638 §3.2 hashes. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the JSON of its required
 * members only, in lexicographic order, without whitespace. `undefined` for a key type without
 * required members here or a required member that is not a string (such a key verifies
 * nothing). Own properties only.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const kty = Object.hasOwn(jwk, 'kty') ? jwk.kty : undefined;
  if (typeof kty !== 'string' || !Object.hasOwn(REQUIRED_MEMBERS, kty)) return undefined;
  const members = REQUIRED_MEMBERS[kty] as readonly string[];
  const parts: string[] = [];
  for (const name of members) {
    const value = Object.hasOwn(jwk, name) ? jwk[name] : undefined;
    if (typeof value !== 'string') return undefined;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return hash('sha256', `{${parts.join(',')}}`, 'base64url');
}
