import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  type KeyObject,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import type { JWK } from 'jose';
import type { Algorithm } from '@resolver/config';

/**
 * How one JWS algorithm (RFC 7518 §3, RFC 8037 §3.1) is checked with `node:crypto`, with exactly
 * the parameters jose 5 passed to the same OpenSSL primitives, so the two give the same answer
 * on every signature (`signature.differential.spec.ts` holds them to it). The synchronous
 * `crypto.verify` on a `KeyObject` made once per key runs on the calling thread; jose's
 * `promisify(crypto.verify)` pays a hop to libuv's thread pool on every call, about 3× the cost.
 */
export type SignatureScheme =
  | {
      readonly family: 'rsa';
      readonly digest: string;
      readonly padding: number;
      /** PSS only: the salt is exactly the hash length (RFC 7518 §3.5). */
      readonly saltLength?: number;
    }
  | {
      readonly family: 'ec';
      readonly digest: string;
      /** OpenSSL's name of the one curve this algorithm is defined on. */
      readonly curve: string;
      /** Raw `r || s` (RFC 7518 §3.4), each the curve's field size: never DER. */
      readonly signatureBytes: number;
    }
  | { readonly family: 'eddsa' }
  | { readonly family: 'hmac'; readonly digest: string };

const rsa = (bits: number): SignatureScheme => ({
  family: 'rsa',
  digest: `sha${bits}`,
  padding: constants.RSA_PKCS1_PADDING,
});
const pss = (bits: number): SignatureScheme => ({
  family: 'rsa',
  digest: `sha${bits}`,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: bits / 8,
});
const ecdsa = (bits: number, curve: string, fieldBytes: number): SignatureScheme => ({
  family: 'ec',
  digest: `sha${bits}`,
  curve,
  signatureBytes: 2 * fieldBytes,
});
const hmac = (bits: number): SignatureScheme => ({ family: 'hmac', digest: `sha${bits}` });

/** Every algorithm the configuration can allow, and nothing else (`none` has no entry). */
export const SIGNATURE_SCHEMES: Readonly<Record<Algorithm, SignatureScheme>> = {
  RS256: rsa(256),
  RS384: rsa(384),
  RS512: rsa(512),
  PS256: pss(256),
  PS384: pss(384),
  PS512: pss(512),
  ES256: ecdsa(256, 'prime256v1', 32),
  ES384: ecdsa(384, 'secp384r1', 48),
  ES512: ecdsa(512, 'secp521r1', 66),
  EdDSA: { family: 'eddsa' },
  HS256: hmac(256),
  HS384: hmac(384),
  HS512: hmac(512),
};

/** RSA keys below this many bits verify nothing (jose's rule, RFC 7518 §3.3 and §3.5). */
export const MIN_RSA_MODULUS_BITS = 2048;

/**
 * A trusted JWK as a `KeyObject`, or undefined when it cannot be one (a broken JWK, an RSA key
 * with `oth`, an empty HMAC secret): such a key verifies nothing. Public keys only; an `oct` key
 * becomes a secret key (only an HMAC issuer's own secret is ever one, see key-source.ts).
 */
export function keyObjectFor(jwk: JWK): KeyObject | undefined {
  try {
    if (jwk.kty === 'oct') {
      return typeof jwk.k === 'string' && jwk.k !== ''
        ? createSecretKey(Buffer.from(jwk.k, 'base64url'))
        : undefined;
    }
    if (jwk.kty === 'RSA' && jwk.oth !== undefined) return undefined;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return undefined;
    // Always a public key object, even from a JWK that also carries private members.
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * Whether a key may verify this scheme at all: its type and curve must be the algorithm's (an
 * RSA key never verifies ES256, a P-384 key never ES256, a public key never HS256), and an RSA
 * modulus must have at least {@link MIN_RSA_MODULUS_BITS} bits.
 */
export function keyFits(scheme: SignatureScheme, key: KeyObject): boolean {
  switch (scheme.family) {
    case 'rsa':
      return (
        key.asymmetricKeyType === 'rsa' &&
        (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS
      );
    case 'ec':
      return (
        key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === scheme.curve
      );
    case 'eddsa':
      return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
    case 'hmac':
      return key.type === 'secret';
  }
}

/**
 * True when `signature` is a valid signature of `signingInput` (the token's first two segments
 * and the dot) under `key`, which must {@link keyFits fit} the scheme. Never throws for any
 * signature bytes: a shape OpenSSL refuses is an invalid signature, as it is for jose.
 */
export function verifySignature(
  scheme: SignatureScheme,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  try {
    switch (scheme.family) {
      case 'rsa':
        return verify(
          scheme.digest,
          signingInput,
          { key, padding: scheme.padding, saltLength: scheme.saltLength },
          signature,
        );
      case 'ec':
        return (
          signature.length === scheme.signatureBytes &&
          verify(scheme.digest, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'eddsa':
        return verify(null, signingInput, key, signature);
      case 'hmac': {
        const expected = createHmac(scheme.digest, key).update(signingInput).digest();
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      }
    }
  } catch {
    return false;
  }
}
