import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { FixedClock } from '@resolver/observability';
import { StaticKeySource } from '../key-source';
import { isSetError } from './set-error';
import { SetVerifier } from './set-verifier';

const NOW = new Date('2026-12-07T12:00:00Z');
const nowS = NOW.getTime() / 1000;
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const policy = {
  issuer: 'https://tx.example/',
  audience: 'https://resolver.example/ssf',
  algorithms: ['ES256' as const],
  maxSetBytes: 4096,
  clockToleranceSeconds: 60,
  maxEventAgeSeconds: 3600,
};

let key: CryptoKey;
let otherKey: CryptoKey;
let verifier: SetVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  verifier = new SetVerifier(policy, new StaticKeySource('jwks', [jwk]), new FixedClock(NOW));
});

const event = { subject: { format: 'email', email: 'a@example.com' }, event_timestamp: nowS - 5 };
function claims(extra: Record<string, unknown> = {}) {
  return {
    iss: policy.issuer,
    aud: policy.audience,
    iat: nowS,
    jti: 'set-1',
    events: { [SESSION_REVOKED]: event },
    ...extra,
  };
}
function sign(
  body: Record<string, unknown> = claims(),
  header: Record<string, unknown> = {},
  with_: CryptoKey = key,
) {
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: 'k1', ...header })
    .sign(with_);
}
async function refusal(set: string | Promise<string>): Promise<string> {
  try {
    await verifier.verify(await set);
  } catch (error) {
    if (isSetError(error)) return `${error.code}: ${error.description}`;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('SetVerifier', () => {
  it('accepts a signed SET and returns its one event, own data, with event_timestamp', async () => {
    const set = await verifier.verify(await sign());
    expect(set).toMatchObject({
      jti: 'set-1',
      eventType: SESSION_REVOKED,
      eventName: 'session-revoked',
      issuedAtMs: NOW.getTime(),
      eventAtMs: NOW.getTime() - 5_000,
    });
    expect(Object.getPrototypeOf(set.event)).toBeNull();
    expect(set.subject).toEqual({ format: 'email', email: 'a@example.com' });
  });

  it('prefers the SSF 1.0 sub_id and accepts an array aud and the application/ typ', async () => {
    const set = await verifier.verify(
      await sign(claims({ aud: ['x', policy.audience], sub_id: { format: 'opaque', id: 'u1' } }), {
        typ: 'application/secevent+jwt',
      }),
    );
    expect(set.subject).toEqual({ format: 'opaque', id: 'u1' });
  });

  it('acknowledges an unknown event type as such (no name), not as an error', async () => {
    const set = await verifier.verify(
      await sign(claims({ events: { 'urn:example:unknown': { subject: {} } } })),
    );
    expect(set.eventName).toBeUndefined();
  });

  it.each([
    ['another key', () => sign(claims(), {}, otherKey), /^invalid_key/],
    ['an unknown kid', () => sign(claims(), { kid: 'k2' }), /^invalid_key/],
    ['a missing typ', () => sign(claims(), { typ: undefined }), /^invalid_request: header "typ"/],
    ['typ JWT', () => sign(claims(), { typ: 'JWT' }), /^invalid_request: header "typ"/],
    ['a wrong iss', () => sign(claims({ iss: 'https://evil/' })), /^invalid_issuer/],
    ['a wrong aud', () => sign(claims({ aud: 'https://other/' })), /^invalid_audience/],
    ['no aud', () => sign(claims({ aud: undefined })), /^invalid_audience/],
    ['a future iat', () => sign(claims({ iat: nowS + 600 })), /^invalid_request: claim "iat"/],
    ['an old iat', () => sign(claims({ iat: nowS - 7200 })), /^invalid_request: claim "iat"/],
    ['iat a string', () => sign(claims({ iat: String(nowS) })), /claim "iat"/],
    ['no jti', () => sign(claims({ jti: undefined })), /claim "jti"/],
    ['a jti with a newline', () => sign(claims({ jti: 'a\nb' })), /claim "jti"/],
    ['an expired exp', () => sign(claims({ exp: nowS - 1 })), /claim "exp"/],
    [
      'two events',
      () => sign(claims({ events: { [SESSION_REVOKED]: event, 'urn:x': {} } })),
      /exactly one event, not 2/,
    ],
    ['no events', () => sign(claims({ events: {} })), /exactly one event, not 0/],
    ['events an array', () => sign(claims({ events: [event] })), /"events" must be an object/],
    [
      'an event not an object',
      () => sign(claims({ events: { [SESSION_REVOKED]: 1 } })),
      /must be an object/,
    ],
    [
      'a future event_timestamp',
      () =>
        sign(claims({ events: { [SESSION_REVOKED]: { ...event, event_timestamp: nowS + 3600 } } })),
      /event_timestamp/,
    ],
    [
      'an oversized SET',
      () => sign(claims({ padding: 'x'.repeat(5000) })),
      /^invalid_request: the SET exceeds 4096 bytes/,
    ],
  ])('refuses %s', async (_name, make, expected) => {
    expect(await refusal(make())).toMatch(expected);
  });

  it('refuses alg none and an algorithm outside the allow-list, whatever the header says of keys', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'secevent+jwt' })}.${b64(claims())}.`;
    expect(await refusal(none)).toMatch(/^invalid_request/);
    const hs = `${b64({ alg: 'HS256', typ: 'secevent+jwt', kid: 'k1' })}.${b64(claims())}.c2ln`;
    expect(await refusal(hs)).toMatch(/"alg" "HS256" is not allowed/);
    // A key in the header is never used: the SET signed by another key still fails.
    const other = await generateKeyPair('ES256', { extractable: true });
    const embedded = await sign(
      claims(),
      { jwk: await exportJWK(other.publicKey) },
      other.privateKey,
    );
    expect(await refusal(embedded)).toMatch(/^invalid_key/);
  });

  it('reads prototype keys in events and subjects as plain data', async () => {
    const hostile = JSON.parse(
      `{"__proto__": {"polluted": true}, "subject": {"format": "email", "email": "a@example.com", "__proto__": {"x": 1}}}`,
    ) as Record<string, unknown>;
    const set = await verifier.verify(
      await sign(claims({ events: { [SESSION_REVOKED]: hostile } })),
    );
    expect(Object.getPrototypeOf(set.event)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(set.event, '__proto__')).toBe(true);
  });

  it('refuses a duplicated member instead of picking one', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const header = b64(JSON.stringify({ alg: 'ES256', typ: 'secevent+jwt', kid: 'k1' }));
    const body = b64(`{"iss":"${policy.issuer}","iss":"https://evil/"}`);
    expect(await refusal(`${header}.${body}.c2ln`)).toMatch(/^invalid_request: not a signed JWT/);
  });
});
