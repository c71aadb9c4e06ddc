import {
  AUD,
  type Case,
  claims,
  type HostileWorld,
  ISS,
  NOW,
  TOL,
} from '../../support/hostile-world';

/**
 * Claims at the clock-tolerance boundaries (clock frozen at NOW, tolerance 30 s), aud and iss
 * spellings, subjects (malformed, look-alikes, case variants) and the RFC 9068 profile with its
 * maximum token age.
 */
export const claimCases = (w: HostileWorld): Case[] => [
  // --- time claims at the clock-tolerance boundaries (clock frozen at NOW, tolerance 30 s) ----
  {
    family: 'claims',
    name: 'exp missing',
    reason: 'CLAIM_INVALID',
    make: () => {
      const { exp: _exp, ...rest } = claims(ISS.a);
      return w.genuine(rest);
    },
  },
  {
    family: 'claims',
    name: 'exp = now - tolerance (first expired second)',
    reason: 'TOKEN_EXPIRED',
    make: () => w.genuine(claims(ISS.a, { exp: NOW - TOL })),
  },
  {
    family: 'claims',
    name: 'exp an hour ago',
    reason: 'TOKEN_EXPIRED',
    make: () => w.genuine(claims(ISS.a, { exp: NOW - 3600 })),
  },
  {
    family: 'claims',
    name: 'nbf = now + tolerance + 1',
    reason: 'TOKEN_NOT_YET_VALID',
    make: () => w.genuine(claims(ISS.a, { nbf: NOW + TOL + 1 })),
  },
  {
    family: 'claims',
    name: 'iat = now + tolerance + 1 (issued in the future)',
    reason: 'CLAIM_INVALID',
    make: () => w.genuine(claims(ISS.a, { iat: NOW + TOL + 1 })),
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
    make: () => w.genuine(claims(ISS.a, { [claim]: value })),
  })),
  {
    family: 'claims',
    name: 'exp = 1e400 (parses to Infinity)',
    reason: 'CLAIM_INVALID',
    make: () =>
      w.genuine(JSON.stringify(claims(ISS.a, { exp: 0 })).replace('"exp":0', '"exp":1e400')),
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
    make: () => w.genuine(claims(ISS.a, { aud })),
  })),
  {
    family: 'claims',
    name: 'aud missing',
    reason: 'AUDIENCE_MISMATCH',
    make: () => {
      const { aud: _aud, ...rest } = claims(ISS.a);
      return w.genuine(rest);
    },
  },
  ...(
    [
      ['trailing slash', `${ISS.a}/`],
      ['upper case', ISS.a.toUpperCase()],
      ['leading space', ` ${ISS.a}`],
      ['trailing newline', `${ISS.a}\n`],
      ['an array', [ISS.a]],
      ['an unknown issuer', 'https://w.evil.test'],
      ['missing', undefined],
    ] as const
  ).map(([what, iss]): Case => ({
    family: 'claims',
    name: `iss: ${what}`,
    reason: 'ISSUER_UNKNOWN',
    make: () => w.genuine(claims(ISS.a, { iss })),
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
    make: () => w.genuine(claims(ISS.a, { sub })),
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
    make: () => w.genuine(claims(ISS.n, { sub })),
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
      w.genuine(claims(ISS.t, { client_id: 'client-1', jti: 'jti-1', ...overrides }), {
        typ: 'at+jwt',
        ...hdr,
      }),
  })),
];
