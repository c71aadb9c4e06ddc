import { generateKeyPairSync, hash, type KeyObject, sign } from 'node:crypto';
import fc from 'fast-check';
import { NO_BINDING } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import { checkDpopProof, type ProofRequest } from './dpop-proof';
import { jwkThumbprint } from './jwk-thumbprint';

const policy = NO_BINDING.dpop;

// RFC 9449 §7.1 (Figure 13): a proof for a protected resource request, with the access token it
// is for; its key is the one of the §4.3 example, whose RFC 7638 thumbprint §6.1 puts in cnf.jkt.
const RFC_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA';
const RFC_REQUEST: ProofRequest = {
  method: 'GET',
  uri: 'https://resource.example.org/protectedresource',
  accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
  jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I',
};
const RFC_NOW = 1562262618 * 1000;
// RFC 9449 §4.3 (Figure 4): a proof for the token endpoint: no ath (no access token yet).
const RFC_TOKEN_REQUEST_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';

/** The reason (and message) a proof is refused with, or OK. */
function verdict(proof: string, request: ProofRequest = RFC_REQUEST, nowMs = RFC_NOW): string {
  try {
    checkDpopProof(proof, request, policy, nowMs);
    return 'OK';
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return `${error.reason}: ${error.message}`;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A hand-rolled proof (malformed ones only: valid ones in other specs come from `dpop`). */
function handRolled(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | undefined,
  alg = 'ES256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature =
    key && alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : Buffer.alloc(0);
  return `${input}.${signature.toString('base64url')}`;
}

describe('DPoP proof checks (RFC 9449 §4.3)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jkt = jwkThumbprint(jwk) as string;
  const nowMs = Date.UTC(2026, 11, 1);
  const iat = nowMs / 1000;
  const token = 'header.payload.signature';
  const request: ProofRequest = {
    method: 'POST',
    uri: 'https://api.example.com/orders',
    accessToken: token,
    jkt,
  };
  const athOf = (t: string) => hash('sha256', t, 'base64url');
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
  const payload = {
    jti: 'j-1',
    htm: 'POST',
    htu: 'https://api.example.com/orders',
    iat,
    ath: athOf(token),
  };
  const proof = (h: Record<string, unknown> = {}, p: Record<string, unknown> = {}) =>
    handRolled({ ...header, ...h }, { ...payload, ...p }, privateKey);
  const check = (p: string, r: Partial<ProofRequest> = {}, at = nowMs) =>
    verdict(p, { ...request, ...r }, at);

  it('accepts the RFC 9449 §7.1 example proof for its request, token and key (cnf.jkt of §6.1)', () => {
    expect(verdict(RFC_PROOF)).toBe('OK');
    expect(checkDpopProof(RFC_PROOF, RFC_REQUEST, policy, RFC_NOW)).toMatchObject({
      jti: 'e1j3V_bKic8-LAEB',
      jkt: RFC_REQUEST.jkt,
      iatMs: RFC_NOW,
      replayUntilMs: RFC_NOW + (policy.proofMaxAgeSeconds + policy.clockToleranceSeconds) * 1000,
    });
  });

  it('refuses the RFC 9449 §4.3 token-request proof at a resource: no ath', () => {
    const r = { ...RFC_REQUEST, method: 'POST', uri: 'https://server.example.com/token' };
    expect(verdict(RFC_TOKEN_REQUEST_PROOF, r, RFC_NOW - 2000)).toMatch(/^PROOF_INVALID: .*ath/);
  });

  it('computes the RFC 7638 §3.1 thumbprint, and the RFC 9449 §6.1 cnf.jkt of the §4.3 key', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' })).toBe(
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
    expect(
      jwkThumbprint({
        kty: 'EC',
        x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
        y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
        crv: 'P-256',
      }),
    ).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    // Own properties only; no thumbprint without the key type's required members.
    expect(
      jwkThumbprint(Object.create({ kty: 'RSA', n, e: 'AQAB' }) as Record<string, unknown>),
    ).toBeUndefined();
    expect(jwkThumbprint({ kty: 'EC', x: 'a', crv: 'P-256' })).toBeUndefined();
    expect(jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' })).toBeUndefined();
  });

  it('accepts a well-made proof; htu compared without query or fragment, scheme and host case, default port', () => {
    expect(check(proof())).toBe('OK');
    expect(check(proof(), { uri: 'https://API.Example.COM:443/orders?id=7#frag' })).toBe('OK');
    expect(check(proof({}, { htu: 'HTTPS://api.example.com:443/orders?x=1' }))).toBe('OK');
    expect(check(proof({}, { htu: 'https://api.example.com/a/../orders' }))).toBe('OK');
  });

  it('refuses PROOF_INVALID naming what failed, for each malformed proof', () => {
    const cases: [string, () => string, Partial<ProofRequest>?, number?][] = [
      ['typ', () => proof({ typ: 'JWT' })],
      ['typ', () => proof({ typ: undefined })],
      ['alg "none"', () => handRolled({ ...header, alg: 'none' }, payload, undefined, 'none')],
      ['alg "HS256"', () => handRolled({ ...header, alg: 'HS256' }, payload, undefined, 'HS256')],
      ['private member "d"', () => proof({ jwk: { ...jwk, d: 'AAAA' } })],
      ['private member "k"', () => proof({ jwk: { kty: 'oct', k: 'c2VjcmV0' } })],
      ['jwk header must be a JSON object', () => proof({ jwk: 'key' })],
      ['jwk header must be a JSON object', () => proof({ jwk: undefined })],
      ['not a public key for ES256', () => proof({ jwk: { ...jwk, crv: 'P-384' } })],
      ['signature does not verify', () => `${proof().slice(0, -6)}AAAAAA`],
      ['htm', () => proof({}, { htm: 'GET' })],
      ['htm', () => proof({}, { htm: 'post' })],
      ['htu', () => proof({}, { htu: 'https://api.example.com/admin' })],
      ['htu', () => proof({}, { htu: 'http://api.example.com/orders' })],
      ['htu', () => proof({}, { htu: 'https://api.example.com:8443/orders' })],
      ['htu', () => proof({}, { htu: 42 })],
      ['iat is older', () => proof({}, { iat: iat - 66 })],
      ['iat is in the future', () => proof({}, { iat: iat + 6 })],
      ['iat must be a number', () => proof({}, { iat: String(iat) })],
      ['ath', () => proof({}, { ath: athOf('another.token.here') })],
      ['ath', () => proof({}, { ath: undefined })],
      ['jti', () => proof({}, { jti: undefined })],
      ['jti', () => proof({}, { jti: 'x'.repeat(257) })],
      ['nonce must be a string', () => proof({}, { nonce: 7 })],
      ['larger than', () => proof({}, { pad: 'x'.repeat(5000) })],
      ['more than one DPoP header', () => `${proof()}, ${proof()}`],
      ['not a well-formed JWS', () => 'not-a-jws'],
      ['not a well-formed JWS', () => proof({ crit: ['exp'] })],
      ['not absolute', () => proof(), { uri: '/orders' }],
    ];
    for (const [what, make, r, at] of cases) {
      const answer = check(make(), r, at);
      expect([what, answer.startsWith('PROOF_INVALID: DPoP proof:')]).toEqual([what, true]);
      expect(answer).toContain(what);
    }
  });

  it('inherited members are never read: a proof lacking a member stays refused', () => {
    const polluted = Object.prototype as unknown as Record<string, unknown>;
    polluted.ath = athOf(token);
    try {
      expect(check(proof({}, { ath: undefined }))).toMatch(/^PROOF_INVALID: .*ath/);
    } finally {
      delete polluted.ath;
    }
  });

  it('refuses a proof signed by a key other than cnf.jkt with BINDING_MISMATCH', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherJwk = other.publicKey.export({ format: 'jwk' });
    const foreign = handRolled({ ...header, jwk: otherJwk }, payload, other.privateKey);
    expect(check(foreign)).toMatch(/^BINDING_MISMATCH:/);
  });

  it('never throws anything but a refusal, whatever the proof (property)', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const segment = fc.oneof(
      json.map((v) => b64(v)),
      fc
        .dictionary(
          fc.constantFrom('typ', 'alg', 'jwk', 'jti', 'htm', 'htu', 'iat', 'ath', '__proto__', 'd'),
          json,
        )
        .map(b64),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.tuple(segment, segment, fc.string({ maxLength: 90 })).map((p) => p.join('.')),
          fc
            .record({ h: fc.dictionary(fc.string(), json), p: fc.dictionary(fc.string(), json) })
            .map(({ h, p }) => proof(h, p)),
        ),
        (candidate) => {
          const answer = check(candidate);
          expect(answer).toMatch(/^(OK|PROOF_INVALID: |BINDING_MISMATCH: )/);
        },
      ),
      { numRuns: 400 },
    );
  });
});
