import { createPublicKey, randomBytes, sign } from 'node:crypto';
import { exportSPKI } from 'jose';
import type { Pool } from 'pg';
import { FixedClock } from '@resolver/observability';
import type { ReasonCode } from '@resolver/reasons';
import { createTestDatabase, sqlPool } from '../support/database';
import {
  b64,
  expectRefusedOnBothTransports,
  hs256,
  provisionedRows,
  signWith,
} from '../support/hostile';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

/**
 * The adversarial suite: every crafted token below is refused with one exact reason, the same
 * over HTTP and gRPC, and leaves no trace. The attacked issuer (A) has JIT provisioning ON with
 * no required claims, so any token that got through verification and subject mapping would
 * create a user and a link: the row counts before and after each case prove nothing was
 * provisioned. (There is no verified-token or user cache on this branch yet; when one lands,
 * this suite is where "nothing cached" gets asserted too. Today "no rows" is the whole trace.)
 *
 * Reasons were chosen so each names the first check that refused the token, in the pipeline's
 * order: size/shape -> issuer by exact iss -> alg allow-list -> header policy -> key from the
 * configured source only -> signature -> claims -> subject. See README "Security model".
 */

const AUD = 'api://security-test';
const NOW = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000);
const TOL = 30;
const ISS = {
  a: 'https://a.idp.test', // attacked: RS256 + ES256 via JWKS, JIT on, ASCII subject pattern
  b: 'https://b.idp.test', // another trusted issuer with its own JWKS
  n: 'https://n.idp.test', // A's keys, JIT off, no pattern: look-alike and case-variant subjects
  h: 'https://h.idp.test', // HMAC (HS256) with a strong secret, JIT on
  t: 'https://t.idp.test', // RFC 9068 access tokens (typ at+jwt), maxTokenAgeSeconds 3600, JIT on
};
const HMAC_SECRET = 'a-strong-shared-secret-of-at-least-32-bytes!';
const MAX_TOKEN_BYTES = 16_384;
/** Order n of the P-256 group. */
const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

let idp: JwksServer;
let attacker: JwksServer;
let keys: TokenFactory; // A's (and N's, T's) keys
let other: TokenFactory; // B's keys
let evil: TokenFactory; // the attacker's own keys
let app: ResolverHarness;
let db: Pool;
const clock = new FixedClock(new Date(NOW * 1000));

const claims = (iss: string, overrides: Record<string, unknown> = {}) =>
  claimsFor(iss, AUD, NOW, { sub: 'victim', ...overrides });
const header = (extra: Record<string, unknown> = {}) => ({
  alg: 'RS256',
  typ: 'JWT',
  kid: keys.rsa.kid,
  ...extra,
});
/** Signed with A's real RSA key: only the named defect stands between it and a user. */
const genuine = (payload: unknown = claims(ISS.a), hdr: Record<string, unknown> = {}) =>
  signWith(keys.rsa, header(hdr), payload);
const ecHeader = () => ({ alg: 'ES256', typ: 'JWT', kid: keys.ec.kid });
const withSignature = (token: string, signature: Buffer | string) =>
  `${token.split('.').slice(0, 2).join('.')}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;
const scalar = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const rs = (r: bigint, s: bigint) => Buffer.concat([scalar(r), scalar(s)]);
const realEcSignature = () =>
  Buffer.from(signWith(keys.ec, ecHeader(), claims(ISS.a)).split('.')[2] as string, 'base64url');
const attackerUrl = (path: string) => `${attacker.base}${path}`;

interface Case {
  readonly family: string;
  readonly name: string;
  readonly reason: ReasonCode;
  readonly make: () => string | Promise<string>;
  /** Tokens larger than an HTTP header comfortably carries go in the JSON body. */
  readonly via?: 'header' | 'body';
}

const WEAK_SECRETS = ['secret', 'password', '123456', 'changeme', 'your-256-bit-secret'];

const CASES: Case[] = [
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
      const real = genuine().split('.')[2] as string;
      return `${b64({ alg: 'none' })}.${b64(claims(ISS.a))}.${real}`;
    },
  },
  {
    family: 'alg none',
    name: 'null signature (a.b.) with alg RS256',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(genuine(), ''),
  },
  {
    family: 'alg none',
    name: 'signature truncated to half',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const t = genuine();
      return withSignature(t, (t.split('.')[2] as string).slice(0, 172));
    },
  },
  {
    family: 'alg none',
    name: 'signature truncated to 255 bytes',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const t = genuine();
      return withSignature(t, (t.split('.')[2] as string).slice(0, 340));
    },
  },
  {
    family: 'alg none',
    name: 'signature of 256 zero bytes',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(genuine(), Buffer.alloc(256)),
  },

  // --- RS -> HS key confusion ---------------------------------------------------------------
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public key as PEM bytes",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: async () =>
      hs256(await exportSPKI(keys.rsa.publicKey), header({ alg: 'HS256' }), claims(ISS.a)),
  },
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public key as DER",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: async () =>
      hs256(
        createPublicKey(await exportSPKI(keys.rsa.publicKey)).export({
          format: 'der',
          type: 'spki',
        }),
        header({ alg: 'HS256' }),
        claims(ISS.a),
      ),
  },
  {
    family: 'key confusion',
    name: "HS256 keyed with the issuer's public JWK JSON",
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => hs256(JSON.stringify(keys.rsa.publicJwk), header({ alg: 'HS256' }), claims(ISS.a)),
  },
  {
    family: 'key confusion',
    name: 'HS256 with an empty secret against the asymmetric issuer',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () => hs256('', header({ alg: 'HS256' }), claims(ISS.a)),
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
    make: () => genuine(claims(ISS.h)),
  },

  // --- keys named by the token itself ---------------------------------------------------------
  {
    family: 'token-supplied keys',
    name: "embedded jwk header (attacker's key, attacker's kid), self-signed",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(evil.rsa, header({ kid: evil.rsa.kid, jwk: evil.rsa.publicJwk }), claims(ISS.a)),
  },
  {
    family: 'token-supplied keys',
    name: "embedded jwk header under the issuer's kid",
    reason: 'SIGNATURE_INVALID',
    make: () => signWith(evil.rsa, header({ jwk: evil.rsa.publicJwk }), claims(ISS.a)),
  },
  {
    family: 'token-supplied keys',
    name: 'embedded jwk header, no kid',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const { kid: _kid, ...hdr } = header({ jwk: evil.rsa.publicJwk });
      return signWith(evil.rsa, hdr, claims(ISS.a));
    },
  },
  {
    family: 'token-supplied keys',
    name: 'embedded symmetric jwk with HS256',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () =>
      hs256(
        'attacker-secret',
        header({ alg: 'HS256', jwk: { kty: 'oct', k: b64('attacker-secret') } }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "jku at the attacker's JWKS, attacker's kid",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(
        evil.rsa,
        header({ kid: evil.rsa.kid, jku: attackerUrl('/jwks/evil') }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "jku at the attacker's JWKS under the issuer's kid",
    reason: 'SIGNATURE_INVALID',
    make: () => signWith(evil.rsa, header({ jku: attackerUrl('/jwks/evil') }), claims(ISS.a)),
  },
  {
    family: 'token-supplied keys',
    name: "x5u at the attacker's server",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(
        evil.rsa,
        header({ kid: evil.rsa.kid, x5u: attackerUrl('/x5u/evil.pem') }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "x5c chain carrying the attacker's key",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: async () => {
      const der = createPublicKey(await exportSPKI(evil.rsa.publicKey)).export({
        format: 'der',
        type: 'spki',
      });
      return signWith(
        evil.rsa,
        header({ kid: evil.rsa.kid, x5c: [der.toString('base64'), der.toString('base64')] }),
        claims(ISS.a),
      );
    },
  },

  // --- kid injection (signed with A's real key: only kid matching stands in the way) ---------
  ...[
    ['path traversal', '../../../../../../etc/passwd'],
    ['absolute device path', '/dev/null'],
    ['SQL tautology', "' OR '1'='1"],
    ['SQL statement', "x'; DROP TABLE users; --"],
    ['shell substitution', '$(touch /tmp/pwned)'],
    ['shell pipe', '| rm -rf / #'],
    ['URL of the attacker', 'http://127.0.0.1:1/jwks/evil'],
    ['empty string', ''],
    ['issuer kid with a NUL suffix', 'KID\u0000'],
  ].map(([what, kid]): Case => ({
    family: 'kid injection',
    name: `kid: ${what}`,
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () => genuine(claims(ISS.a), { kid: (kid as string).replace('KID', keys.rsa.kid) }),
  })),
  {
    family: 'kid injection',
    name: 'kid of 10 KB',
    reason: 'TOKEN_MALFORMED',
    via: 'body',
    make: () => genuine(claims(ISS.a), { kid: 'k'.repeat(10_240) }),
  },
  {
    family: 'kid injection',
    name: 'kid of 257 characters',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { kid: 'k'.repeat(257) }),
  },
  ...[
    ['number', 1],
    ['null', null],
    ['object (NoSQL operator)', { $ne: '' }],
    ['array', ['KID']],
    ['boolean', true],
  ].map(([what, kid]): Case => ({
    family: 'kid injection',
    name: `kid: ${what as string}`,
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { kid }),
  })),
  {
    family: 'kid injection',
    name: "kid of another trusted issuer, signed with that issuer's key",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () => signWith(other.rsa, header({ kid: other.rsa.kid }), claims(ISS.a)),
  },

  // --- header extensions, JWE, nesting ----------------------------------------------------------
  {
    family: 'header extensions',
    name: 'crit naming an unknown parameter',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      genuine(claims(ISS.a), { crit: ['http://evil.test/ext'], 'http://evil.test/ext': 1 }),
  },
  {
    family: 'header extensions',
    name: 'crit naming a registered claim',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { crit: ['exp'] }),
  },
  {
    family: 'header extensions',
    name: 'crit empty',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { crit: [] }),
  },
  {
    family: 'header extensions',
    name: 'b64: false with crit [b64]',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { b64: false, crit: ['b64'] }),
  },
  {
    family: 'header extensions',
    name: 'b64: false without crit',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { b64: false }),
  },
  {
    family: 'header extensions',
    name: 'JWE (five segments)',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      [
        b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: keys.rsa.kid }),
        b64(randomBytes(256)),
        b64(randomBytes(12)),
        b64(Buffer.from(JSON.stringify(claims(ISS.a)))),
        b64(randomBytes(16)),
      ].join('.'),
  },
  {
    family: 'header extensions',
    name: 'JWE header parameter enc in a three-segment token',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { enc: 'A256GCM' }),
  },
  {
    family: 'header extensions',
    name: 'compressed payload (zip: DEF)',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { zip: 'DEF' }),
  },
  {
    family: 'header extensions',
    name: 'nested JWT (cty: JWT)',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(claims(ISS.a), { cty: 'JWT' }),
  },
  {
    family: 'header extensions',
    name: 'nested JWT (cty: application/jwt), inner token as payload',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(JSON.stringify(genuine()), { cty: 'application/jwt' }),
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
    make: () => `${b64(ecHeader())}.${b64(claims(ISS.a))}.${rs(r, s).toString('base64url')}`,
  })),
  {
    family: 'psychic signatures',
    name: 'ES256 genuine r with s = 0',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const sig = realEcSignature();
      return `${b64(ecHeader())}.${b64(claims(ISS.a))}.${Buffer.concat([sig.subarray(0, 32), scalar(0n)]).toString('base64url')}`;
    },
  },
  {
    family: 'psychic signatures',
    name: 'ES256 signature in DER instead of r||s',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const input = `${b64(ecHeader())}.${b64(claims(ISS.a))}`;
      const der = sign('sha256', Buffer.from(input), keys.ec.privateKey);
      return `${input}.${der.toString('base64url')}`;
    },
  },

  // --- time claims at the clock-tolerance boundaries (clock frozen at NOW, tolerance 30 s) ----
  {
    family: 'claims',
    name: 'exp missing',
    reason: 'CLAIM_INVALID',
    make: () => {
      const { exp: _exp, ...rest } = claims(ISS.a);
      return genuine(rest);
    },
  },
  {
    family: 'claims',
    name: 'exp = now - tolerance (first expired second)',
    reason: 'TOKEN_EXPIRED',
    make: () => genuine(claims(ISS.a, { exp: NOW - TOL })),
  },
  {
    family: 'claims',
    name: 'exp an hour ago',
    reason: 'TOKEN_EXPIRED',
    make: () => genuine(claims(ISS.a, { exp: NOW - 3600 })),
  },
  {
    family: 'claims',
    name: 'nbf = now + tolerance + 1',
    reason: 'TOKEN_NOT_YET_VALID',
    make: () => genuine(claims(ISS.a, { nbf: NOW + TOL + 1 })),
  },
  {
    family: 'claims',
    name: 'iat = now + tolerance + 1 (issued in the future)',
    reason: 'CLAIM_INVALID',
    make: () => genuine(claims(ISS.a, { iat: NOW + TOL + 1 })),
  },
  ...(
    [
      ['exp', 'a numeric string', String(NOW + 600)],
      ['exp', 'null', null],
      ['exp', 'an array', [NOW + 600]],
      ['nbf', 'a string', '0'],
      ['iat', 'a boolean', true],
      ['iat', 'an object', { $date: NOW }],
    ] as const
  ).map(([claim, what, value]): Case => ({
    family: 'claims',
    name: `${claim} is ${what}`,
    reason: 'CLAIM_INVALID',
    make: () => genuine(claims(ISS.a, { [claim]: value })),
  })),
  {
    family: 'claims',
    name: 'exp = 1e400 (parses to Infinity)',
    reason: 'CLAIM_INVALID',
    make: () =>
      genuine(JSON.stringify(claims(ISS.a, { exp: 0 })).replace('"exp":0', '"exp":1e400')),
  },
  ...(
    [
      ['wrong string', 'api://other'],
      ['wrong array', ['api://other', 'api://another']],
      ['empty array', []],
      ['case variant', AUD.toUpperCase()],
      ['trailing space', `${AUD} `],
      ['a number', 1],
    ] as const
  ).map(([what, aud]): Case => ({
    family: 'claims',
    name: `aud: ${what}`,
    reason: 'AUDIENCE_MISMATCH',
    make: () => genuine(claims(ISS.a, { aud })),
  })),
  {
    family: 'claims',
    name: 'aud missing',
    reason: 'AUDIENCE_MISMATCH',
    make: () => {
      const { aud: _aud, ...rest } = claims(ISS.a);
      return genuine(rest);
    },
  },
  ...(
    [
      ['trailing slash', `${ISS.a}/`],
      ['upper case', ISS.a.toUpperCase()],
      ['leading space', ` ${ISS.a}`],
      ['trailing newline', `${ISS.a}\n`],
      ['an array', [ISS.a]],
      ['an unknown issuer', 'https://evil.test'],
      ['missing', undefined],
    ] as const
  ).map(([what, iss]): Case => ({
    family: 'claims',
    name: `iss: ${what}`,
    reason: 'ISSUER_UNKNOWN',
    make: () => genuine(claims(ISS.a, { iss })),
  })),

  // --- subjects -------------------------------------------------------------------------------
  ...(
    [
      ['a number', 12345, 'SUBJECT_MALFORMED'],
      ['an object', { id: 'admin' }, 'SUBJECT_MALFORMED'],
      ['an array', ['admin'], 'SUBJECT_MALFORMED'],
      ['a boolean', true, 'SUBJECT_MALFORMED'],
      ['empty', '', 'SUBJECT_MISSING'],
      // Whitespace is not canonical: refused as malformed, never trimmed to "missing" (#13).
      ['blank', '   ', 'SUBJECT_MALFORMED'],
      ['null', null, 'SUBJECT_MISSING'],
      ['missing', undefined, 'SUBJECT_MISSING'],
      ['256 characters', 'a'.repeat(256), 'SUBJECT_MALFORMED'],
      ['5,000 characters', 'a'.repeat(5000), 'SUBJECT_MALFORMED'],
      ['with NUL', 'admin\u0000', 'SUBJECT_MALFORMED'],
      ['with an ANSI escape', 'admin\u001b[0m', 'SUBJECT_MALFORMED'],
      ['with a newline (log injection)', 'admin\nlevel=info ok', 'SUBJECT_MALFORMED'],
      ['an unpaired surrogate', 'admin\ud800', 'SUBJECT_MALFORMED'],
      ['Cyrillic look-alike', '\u0430dmin', 'SUBJECT_MALFORMED'],
      ['fullwidth look-alike', '\uff41\uff44\uff4d\uff49\uff4e', 'SUBJECT_MALFORMED'],
      ['right-to-left override', 'nimda\u202e', 'SUBJECT_MALFORMED'],
      ['zero-width space', 'ad\u200bmin', 'SUBJECT_MALFORMED'],
    ] as const
  ).map(([what, sub, reason]): Case => ({
    family: 'subject',
    name: `sub ${what} (JIT issuer with an ASCII pattern)`,
    reason,
    make: () => genuine(claims(ISS.a, { sub })),
  })),
  ...(
    [
      ['case variant Admin', 'Admin', 'USER_NOT_FOUND'],
      ['case variant ADMIN', 'ADMIN', 'USER_NOT_FOUND'],
      ['Cyrillic look-alike', '\u0430dmin', 'USER_NOT_FOUND'],
      // Not canonical (a default-ignorable character): refused before any lookup (#13).
      ['zero-width space', 'ad\u200bmin', 'SUBJECT_MALFORMED'],
      ['dotless i look-alike', 'adm\u0131n', 'USER_NOT_FOUND'],
    ] as const
  ).map(([what, sub, reason]): Case => ({
    family: 'subject',
    name: `sub ${what} never resolves to the user "admin" (no pattern, JIT off)`,
    reason,
    make: () => genuine(claims(ISS.n, { sub })),
  })),

  // --- RFC 9068 profile and maximum token age -------------------------------------------------
  ...(
    [
      ['typ JWT (an ID token presented as an access token)', { typ: 'JWT' }, {}, 'CLAIM_INVALID'],
      ['typ missing', { typ: undefined }, {}, 'CLAIM_INVALID'],
      ['client_id missing', {}, { client_id: undefined }, 'CLAIM_INVALID'],
      ['jti missing', {}, { jti: undefined }, 'CLAIM_INVALID'],
      ['iat missing', {}, { iat: undefined }, 'CLAIM_INVALID'],
      ['iat older than maxTokenAgeSeconds', {}, { iat: NOW - 3600 - TOL - 1 }, 'TOKEN_EXPIRED'],
    ] as const
  ).map(([what, hdr, overrides, reason]): Case => ({
    family: 'typ / token age',
    name: what,
    reason,
    make: () =>
      genuine(claims(ISS.t, { client_id: 'client-1', jti: 'jti-1', ...overrides }), {
        typ: 'at+jwt',
        ...hdr,
      }),
  })),

  // --- size and shape -------------------------------------------------------------------------
  {
    family: 'size and shape',
    name: 'correctly signed, 1 to 4 bytes over the size limit',
    reason: 'TOKEN_TOO_LARGE',
    via: 'body',
    make: () => {
      // base64url grows in steps of 4 characters: find the first padding that crosses the limit.
      for (let pad = 0; pad < MAX_TOKEN_BYTES; pad += 3) {
        const t = genuine(claims(ISS.a, { pad: 'p'.repeat(pad) }));
        if (t.length > MAX_TOKEN_BYTES) return t;
      }
      throw new Error('unreachable');
    },
  },
  {
    family: 'size and shape',
    name: '60 KB of base64url',
    reason: 'TOKEN_TOO_LARGE',
    via: 'body',
    make: () => `${'A'.repeat(20_000)}.${'A'.repeat(20_000)}.${'A'.repeat(20_000)}`,
  },
  {
    family: 'size and shape',
    name: 'base64 (not base64url) characters',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine().replace(/-/g, '+').replace(/_/g, '/') + '+/',
  },
  {
    family: 'size and shape',
    name: 'padding',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, p, s] = genuine().split('.');
      return `${h}==.${p}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'percent-encoded dot',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine().replace('.', '%2E'),
  },
  {
    family: 'size and shape',
    name: 'raw control bytes in every segment',
    reason: 'TOKEN_MALFORMED',
    via: 'body',
    make: () => '\u0001\u0002.\u00ff\u00fe.\u0000\u0007',
  },
  {
    family: 'size and shape',
    name: 'header is not JSON',
    reason: 'TOKEN_MALFORMED',
    make: () => signWith(keys.rsa, '{"alg":"RS256"', claims(ISS.a)),
  },
  {
    family: 'size and shape',
    name: 'payload is not JSON',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(`{"iss":"${ISS.a}",`),
  },
  {
    family: 'size and shape',
    name: 'payload is a JSON array',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine([claims(ISS.a)]),
  },
  {
    family: 'size and shape',
    name: 'payload is a JSON string',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(JSON.stringify(JSON.stringify(claims(ISS.a)))),
  },
  {
    family: 'size and shape',
    name: 'deeply nested payload (1,000 levels), correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      genuine(
        JSON.stringify(claims(ISS.a, { x: 0 })).replace(
          '"x":0',
          `"x":${'['.repeat(1000)}${']'.repeat(1000)}`,
        ),
      ),
  },
  {
    family: 'size and shape',
    name: 'duplicate sub (JSON.parse would take the second: "admin"), correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, ',"sub":"admin"}')),
  },
  {
    family: 'size and shape',
    name: 'duplicate iss (first A, then B), correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, `,"iss":"${ISS.b}"}`)),
  },
  {
    family: 'size and shape',
    name: 'duplicate aud spelled with a unicode escape, correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, ',"\\u0061ud":"api://other"}')),
  },
  {
    family: 'size and shape',
    name: 'duplicate alg in the header (RS256 then none)',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      signWith(keys.rsa, `{"alg":"RS256","kid":"${keys.rsa.kid}","alg":"none"}`, claims(ISS.a)),
  },
  {
    family: 'size and shape',
    name: 'binary garbage header',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [, p, s] = genuine().split('.');
      return `${b64(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x10, 0x80, 0x7b]))}.${p}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'binary garbage payload',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, , s] = genuine().split('.');
      return `${h}.${b64(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'binary garbage signature (256 random bytes)',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(genuine(), randomBytes(256)),
  },
  {
    family: 'size and shape',
    name: 'non-canonical signature: genuine, with the unused low bits of its last character set',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const t = genuine();
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(t[t.length - 1] as string);
      // 256 bytes = 342 characters: the last one carries 2 bits and 4 unused ones.
      return t.slice(0, -1) + alphabet[last | 0b0001];
    },
  },
  {
    family: 'size and shape',
    name: 'two segments',
    reason: 'TOKEN_MALFORMED',
    make: () => genuine().split('.').slice(0, 2).join('.'),
  },
  {
    family: 'size and shape',
    name: 'four segments',
    reason: 'TOKEN_MALFORMED',
    make: () => `${genuine()}.${b64('extra')}`,
  },
  {
    family: 'size and shape',
    name: 'empty payload segment',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, , s] = genuine().split('.');
      return `${h}..${s}`;
    },
  },
];

beforeAll(async () => {
  idp = await new JwksServer().start();
  attacker = await new JwksServer().start();
  keys = await TokenFactory.create('sec');
  other = await TokenFactory.create('other');
  evil = await TokenFactory.create('evil');
  attacker.publishJwks('evil', evil.publicJwks());
  const jwksA = idp.publishJwks('a', keys.publicJwks());
  const jwksB = idp.publishJwks('b', other.publicJwks());
  const databaseUrl = await createTestDatabase('security');
  db = sqlPool(databaseUrl);
  const base = { audiences: [AUD], clockToleranceSeconds: TOL };
  const jit = { enabled: true };
  app = await ResolverHarness.start({
    databaseUrl,
    clock,
    env: { SEC_HMAC_SECRET: HMAC_SECRET },
    config: { limits: { maxTokenBytes: MAX_TOKEN_BYTES } },
    issuers: [
      {
        ...base,
        issuer: ISS.a,
        jwksUri: jwksA,
        algorithms: ['RS256', 'ES256'],
        subject: { pattern: '^[A-Za-z0-9|._@-]+$' },
        jit,
      },
      { ...base, issuer: ISS.b, jwksUri: jwksB, algorithms: ['RS256'], jit },
      { ...base, issuer: ISS.n, jwksUri: jwksA, algorithms: ['RS256'] },
      { ...base, issuer: ISS.h, hmacSecretEnv: 'SEC_HMAC_SECRET', algorithms: ['HS256'], jit },
      {
        ...base,
        issuer: ISS.t,
        jwksUri: jwksA,
        algorithms: ['RS256'],
        rfc9068: true,
        maxTokenAgeSeconds: 3600,
        jit,
      },
    ],
  });
  const { rows } = await db.query<{ id: string }>(
    "INSERT INTO users (username, provenance) VALUES ('admin', 'admin') RETURNING id",
  );
  await db.query(
    "INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, '', 'admin', $2)",
    [ISS.n, rows[0]?.id],
  );
});

afterAll(async () => {
  await app?.close();
  await db?.end();
  await idp?.stop();
  await attacker?.stop();
});

describe('hostile tokens', () => {
  it(`has at least 40 crafted tokens in every family of the issue (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.family))).toEqual(
      new Set([
        'alg none',
        'key confusion',
        'token-supplied keys',
        'kid injection',
        'header extensions',
        'psychic signatures',
        'claims',
        'subject',
        'typ / token age',
        'size and shape',
      ]),
    );
  });

  it.each(CASES)('$family: $name -> $reason', async ({ make, reason, via }) => {
    // Tokens are built per case (keys exist only after beforeAll) and never logged.
    const token = await make();
    const before = await provisionedRows(db);
    await expectRefusedOnBothTransports(app, token, reason, via);
    expect(await provisionedRows(db)).toEqual(before);
  });

  it('never contacted the attacker: jku, x5u and URL-shaped kids are not fetched', async () => {
    expect(attacker.requests('/jwks/evil')).toBe(0);
    expect(attacker.requests('/x5u/evil.pem')).toBe(0);
    expect(attacker.totalRequests()).toBe(0);
    // The counter works: a direct request is counted.
    await fetch(`${attacker.base}/jwks/evil`);
    expect(attacker.requests('/jwks/evil')).toBe(1);
  });

  it('the users table survived the SQL-shaped kids', async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
  });
});

describe('controls: the same setup accepts genuine tokens (so the refusals above mean something)', () => {
  it('a genuine RS256 token for the attacked issuer provisions a user (the row counts can move)', async () => {
    const before = await provisionedRows(db);
    const http = await app.resolveHttp({ token: genuine(claims(ISS.a, { sub: 'control-rs' })) });
    expect(http.status).toBe(200);
    expect(http.body.source).toBe('PROVISIONED');
    expect(await provisionedRows(db)).toEqual({
      users: before.users + 1,
      links: before.links + 1,
    });
  });

  it('a genuine ES256 token, an HMAC token with the real secret and an RFC 9068 access token resolve', async () => {
    const es = signWith(keys.ec, ecHeader(), claims(ISS.a, { sub: 'control-es' }));
    const hs = hs256(
      HMAC_SECRET,
      { alg: 'HS256', typ: 'JWT' },
      claims(ISS.h, { sub: 'control-hs' }),
    );
    const at = genuine(
      claims(ISS.t, { sub: 'control-at', client_id: 'c', jti: 'j', iat: NOW - 3600 }),
      { typ: 'application/at+jwt' },
    );
    for (const token of [es, hs, at]) {
      expect((await app.resolveHttp({ token })).status).toBe(200);
      expect(await app.resolveGrpc({ token })).toMatchObject({ ok: true });
    }
  });

  it('accepts the last valid second of every tolerance boundary', async () => {
    for (const overrides of [{ exp: NOW - TOL + 1 }, { nbf: NOW + TOL }, { iat: NOW + TOL }]) {
      const http = await app.resolveHttp({
        token: genuine(claims(ISS.n, { sub: 'admin', ...overrides })),
      });
      expect({ overrides, status: http.status }).toEqual({ overrides, status: 200 });
    }
  });

  it('"admin" resolves on the look-alike issuer, so its variants above were told apart', async () => {
    const http = await app.resolveHttp({ token: genuine(claims(ISS.n, { sub: 'admin' })) });
    expect(http.status).toBe(200);
    expect(http.body.principal.username).toBe('admin');
  });
});
