import { randomBytes } from 'node:crypto';
import { b64, signWith } from '../../support/hostile';
import {
  type Case,
  claims,
  type HostileWorld,
  ISS,
  MAX_TOKEN_BYTES,
  withSignature,
} from '../../support/hostile-world';

/**
 * Header extensions (crit, b64, JWE, zip, nesting) and the token's size and shape (limits,
 * encodings, JSON that is not an object, duplicate members, segments).
 */
export const headerAndShapeCases = (w: HostileWorld): Case[] => [
  // --- header extensions, JWE, nesting ----------------------------------------------------------
  {
    family: 'header extensions',
    name: 'crit naming an unknown parameter',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      w.genuine(claims(ISS.a), { crit: ['http://w.evil.test/ext'], 'http://w.evil.test/ext': 1 }),
  },
  {
    family: 'header extensions',
    name: 'crit naming a registered claim',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { crit: ['exp'] }),
  },
  {
    family: 'header extensions',
    name: 'crit empty',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { crit: [] }),
  },
  {
    family: 'header extensions',
    name: 'b64: false with crit [b64]',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { b64: false, crit: ['b64'] }),
  },
  {
    family: 'header extensions',
    name: 'b64: false without crit',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { b64: false }),
  },
  {
    family: 'header extensions',
    name: 'JWE (five segments)',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      [
        b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: w.keys.rsa.kid }),
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
    make: () => w.genuine(claims(ISS.a), { enc: 'A256GCM' }),
  },
  {
    family: 'header extensions',
    name: 'compressed payload (zip: DEF)',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { zip: 'DEF' }),
  },
  {
    family: 'header extensions',
    name: 'nested JWT (cty: JWT)',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { cty: 'JWT' }),
  },
  {
    family: 'header extensions',
    name: 'nested JWT (cty: application/jwt), inner token as payload',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(JSON.stringify(w.genuine()), { cty: 'application/jwt' }),
  },

  // --- size and shape -------------------------------------------------------------------------
  {
    family: 'size and shape',
    name: 'correctly signed, 1 to 4 bytes over the size limit',
    reason: 'TOKEN_TOO_LARGE',
    via: 'body',
    make: () => {
      // base64url grows in steps of 4 characters: find the first padding that crosses the limit.
      for (let pad = 0; pad < MAX_TOKEN_BYTES; pad += 3) {
        const t = w.genuine(claims(ISS.a, { pad: 'p'.repeat(pad) }));
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
    make: () => w.genuine().replace(/-/g, '+').replace(/_/g, '/') + '+/',
  },
  {
    family: 'size and shape',
    name: 'padding',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, p, s] = w.genuine().split('.');
      return `${h}==.${p}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'percent-encoded dot',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine().replace('.', '%2E'),
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
    make: () => signWith(w.keys.rsa, '{"alg":"RS256"', claims(ISS.a)),
  },
  {
    family: 'size and shape',
    name: 'payload is not JSON',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(`{"iss":"${ISS.a}",`),
  },
  {
    family: 'size and shape',
    name: 'payload is a JSON array',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine([claims(ISS.a)]),
  },
  {
    family: 'size and shape',
    name: 'payload is a JSON string',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(JSON.stringify(JSON.stringify(claims(ISS.a)))),
  },
  {
    family: 'size and shape',
    name: 'deeply nested payload (1,000 levels), correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      w.genuine(
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
    make: () => w.genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, ',"sub":"admin"}')),
  },
  {
    family: 'size and shape',
    name: 'duplicate iss (first A, then B), correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, `,"iss":"${ISS.b}"}`)),
  },
  {
    family: 'size and shape',
    name: 'duplicate aud spelled with a unicode escape, correctly signed',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      w.genuine(JSON.stringify(claims(ISS.a)).replace(/}$/, ',"\\u0061ud":"api://other"}')),
  },
  {
    family: 'size and shape',
    name: 'duplicate alg in the header (RS256 then none)',
    reason: 'TOKEN_MALFORMED',
    make: () =>
      signWith(w.keys.rsa, `{"alg":"RS256","kid":"${w.keys.rsa.kid}","alg":"none"}`, claims(ISS.a)),
  },
  {
    family: 'size and shape',
    name: 'binary garbage header',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [, p, s] = w.genuine().split('.');
      return `${b64(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x10, 0x80, 0x7b]))}.${p}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'binary garbage payload',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, , s] = w.genuine().split('.');
      return `${h}.${b64(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))}.${s}`;
    },
  },
  {
    family: 'size and shape',
    name: 'binary garbage signature (256 random bytes)',
    reason: 'SIGNATURE_INVALID',
    make: () => withSignature(w.genuine(), randomBytes(256)),
  },
  {
    family: 'size and shape',
    name: 'non-canonical signature: genuine, with the unused low bits of its last character set',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const t = w.genuine();
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
    make: () => w.genuine().split('.').slice(0, 2).join('.'),
  },
  {
    family: 'size and shape',
    name: 'four segments',
    reason: 'TOKEN_MALFORMED',
    make: () => `${w.genuine()}.${b64('extra')}`,
  },
  {
    family: 'size and shape',
    name: 'empty payload segment',
    reason: 'TOKEN_MALFORMED',
    make: () => {
      const [h, , s] = w.genuine().split('.');
      return `${h}..${s}`;
    },
  },
];
