import { createPublicKey, sign } from 'node:crypto';
import { exportSPKI } from 'jose';
import { b64, hs256 } from '../../support/hostile';
import {
  type Case,
  claims,
  HMAC_SECRET,
  type HostileWorld,
  ISS,
  withSignature,
} from '../../support/hostile-world';

const WEAK_SECRETS = ['secret', 'password', '123456', 'changeme', 'your-256-bit-secret'];
/** Order n of the P-256 group. */
const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
const scalar = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const rs = (r: bigint, s: bigint) => Buffer.concat([scalar(r), scalar(s)]);

/**
 * Refusals of the signature itself: `none` in every spelling and missing or short signatures,
 * RS -> HS key confusion and weak HMAC secrets, and ECDSA "psychic signatures" (CVE-2022-21449).
 */
export const signatureCases = (w: HostileWorld): Case[] => [
  // --- alg none and missing/short signatures -----------------------------------------------
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): Case => ({
    family: 'alg none',
    name: `alg "${alg}", empty signature`,
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => `${b64({ alg, typ: 'JWT' })}.${b64(claims(ISS.a))}.`,
  })),
  {
    family: 'alg none',
    name: 'alg none carrying a genuine RS256 signature',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => {
      const real = w.genuine().split('.')[2] as string;
      return `${b64({ alg: 'none' })}.${b64(claims(ISS.a))}.${real}`;
    },
  },
  {
    family: 'alg none',
    name: 'null signature (a.b.) with alg RS256',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(w.genuine(), ''),
  },
  {
    family: 'alg none',
    name: 'signature truncated to half',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const t = w.genuine();
      return withSignature(t, (t.split('.')[2] as string).slice(0, 172));
    },
  },
  {
    family: 'alg none',
    name: 'signature truncated to 255 bytes',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const t = w.genuine();
      return withSignature(t, (t.split('.')[2] as string).slice(0, 340));
    },
  },
  {
    family: 'alg none',
    name: 'signature of 256 zero bytes',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(w.genuine(), Buffer.alloc(256)),
  },

  // --- RS -> HS key confusion ---------------------------------------------------------------
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public key as PEM bytes",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: async () =>
      hs256(await exportSPKI(w.keys.rsa.publicKey), w.header({ alg: 'HS256' }), claims(ISS.a)),
  },
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public key as DER",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: async () =>
      hs256(
        createPublicKey(await exportSPKI(w.keys.rsa.publicKey)).export({
          format: 'der',
          type: 'spki',
        }),
        w.header({ alg: 'HS256' }),
        claims(ISS.a),
      ),
  },
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public JWK JSON",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () =>
      hs256(JSON.stringify(w.keys.rsa.publicJwk), w.header({ alg: 'HS256' }), claims(ISS.a)),
  },
  {
    family: 'key confusion',
    name: 'HS256 with an empty secret against the asymmetric issuer',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => hs256('', w.header({ alg: 'HS256' }), claims(ISS.a)),
  },
  {
    family: 'key confusion',
    name: 'HS256 with an empty secret against the HMAC issuer',
    reason: 'SIGNATURE_INVALID',
    make: () => hs256('', { alg: 'HS256', typ: 'JWT' }, claims(ISS.h)),
  },
  ...WEAK_SECRETS.map((secret): Case => ({
    family: 'key confusion',
    name: `HS256 with the weak secret "${secret}" against the HMAC issuer`,
    reason: 'SIGNATURE_INVALID',
    make: () => hs256(secret, { alg: 'HS256', typ: 'JWT' }, claims(ISS.h)),
  })),
  {
    family: 'key confusion',
    name: 'HS512 against the HMAC issuer (only HS256 allowed), real secret',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => hs256(HMAC_SECRET, { alg: 'HS512' }, claims(ISS.h)),
  },
  {
    family: 'key confusion',
    name: 'RS256 token naming the HMAC issuer',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => w.genuine(claims(ISS.h)),
  },

  // --- ECDSA "psychic signatures" (CVE-2022-21449 family) ------------------------------------
  ...(
    [
      ['r = s = 0', 0n, 0n],
      ['r = s = 1', 1n, 1n],
      ['r = s = n-1', P256_N - 1n, P256_N - 1n],
      ['r = s = n', P256_N, P256_N],
      ['r = 0, s = 1', 0n, 1n],
      ['r = 1, s = 0', 1n, 0n],
      ['r = n, s = 1', P256_N, 1n],
    ] as const
  ).map(([what, r, s]): Case => ({
    family: 'psychic signatures',
    name: `ES256 ${what}`,
    reason: 'SIGNATURE_INVALID',
    make: () => `${b64(w.ecHeader())}.${b64(claims(ISS.a))}.${rs(r, s).toString('base64url')}`,
  })),
  {
    family: 'psychic signatures',
    name: 'ES256 genuine r with s = 0',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const sig = w.realEcSignature();
      return `${b64(w.ecHeader())}.${b64(claims(ISS.a))}.${Buffer.concat([sig.subarray(0, 32), scalar(0n)]).toString('base64url')}`;
    },
  },
  {
    family: 'psychic signatures',
    name: 'ES256 signature in DER instead of r||s',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const input = `${b64(w.ecHeader())}.${b64(claims(ISS.a))}`;
      const der = sign('sha256', Buffer.from(input), w.keys.ec.privateKey);
      return `${input}.${der.toString('base64url')}`;
    },
  },
];
