import { createPublicKey } from 'node:crypto';
import { exportSPKI } from 'jose';
import { b64, hs256, signWith } from '../../support/hostile';
import { type Case, claims, type HostileWorld, ISS } from '../../support/hostile-world';

/**
 * Keys the token names itself (embedded jwk, jku, x5u, x5c: never used, never fetched) and kid
 * injection (signed with A's real key: only kid matching stands in the way).
 */
export const tokenKeyCases = (w: HostileWorld): Case[] => [
  // --- keys named by the token itself ---------------------------------------------------------
  {
    family: 'token-supplied keys',
    name: "embedded jwk header (attacker's key, attacker's kid), self-signed",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(
        w.evil.rsa,
        w.header({ kid: w.evil.rsa.kid, jwk: w.evil.rsa.publicJwk }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "embedded jwk header under the issuer's kid",
    reason: 'SIGNATURE_INVALID',
    make: () => signWith(w.evil.rsa, w.header({ jwk: w.evil.rsa.publicJwk }), claims(ISS.a)),
  },
  {
    family: 'token-supplied keys',
    name: 'embedded jwk header, no kid',
    reason: 'SIGNATURE_INVALID',
    make: () => {
      const { kid: _kid, ...hdr } = w.header({ jwk: w.evil.rsa.publicJwk });
      return signWith(w.evil.rsa, hdr, claims(ISS.a));
    },
  },
  {
    family: 'token-supplied keys',
    name: 'embedded symmetric jwk with HS256',
    reason: 'ALGORITHM_NOT_ALLOWED',
    make: () =>
      hs256(
        'attacker-secret',
        w.header({ alg: 'HS256', jwk: { kty: 'oct', k: b64('attacker-secret') } }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "jku at the attacker's JWKS, attacker's kid",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(
        w.evil.rsa,
        w.header({ kid: w.evil.rsa.kid, jku: w.attackerUrl('/jwks/evil') }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "jku at the attacker's JWKS under the issuer's kid",
    reason: 'SIGNATURE_INVALID',
    make: () => signWith(w.evil.rsa, w.header({ jku: w.attackerUrl('/jwks/evil') }), claims(ISS.a)),
  },
  {
    family: 'token-supplied keys',
    name: "x5u at the attacker's server",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () =>
      signWith(
        w.evil.rsa,
        w.header({ kid: w.evil.rsa.kid, x5u: w.attackerUrl('/x5u/w.evil.pem') }),
        claims(ISS.a),
      ),
  },
  {
    family: 'token-supplied keys',
    name: "x5c chain carrying the attacker's key",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: async () => {
      const der = createPublicKey(await exportSPKI(w.evil.rsa.publicKey)).export({
        format: 'der',
        type: 'spki',
      });
      return signWith(
        w.evil.rsa,
        w.header({ kid: w.evil.rsa.kid, x5c: [der.toString('base64'), der.toString('base64')] }),
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
    make: () => w.genuine(claims(ISS.a), { kid: (kid as string).replace('KID', w.keys.rsa.kid) }),
  })),
  {
    family: 'kid injection',
    name: 'kid of 10 KB',
    reason: 'TOKEN_MALFORMED',
    via: 'body',
    make: () => w.genuine(claims(ISS.a), { kid: 'k'.repeat(10_240) }),
  },
  {
    family: 'kid injection',
    name: 'kid of 257 characters',
    reason: 'TOKEN_MALFORMED',
    make: () => w.genuine(claims(ISS.a), { kid: 'k'.repeat(257) }),
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
    make: () => w.genuine(claims(ISS.a), { kid }),
  })),
  {
    family: 'kid injection',
    name: "kid of another trusted issuer, signed with that issuer's key",
    reason: 'SIGNING_KEY_NOT_FOUND',
    make: () => signWith(w.other.rsa, w.header({ kid: w.other.rsa.kid }), claims(ISS.a)),
  },
];
