import { connect } from 'node:net';
import { perSuite } from '../support/per-suite';
import { compact, makeKey } from '../support/token-factory';
import { ISSUER, iss, SsfWorld } from './ssf-world';

/**
 * Forged SETs and push credential attacks change nothing: each is refused with its RFC 8935
 * error (or acknowledged as unknown, for a prototype key as event type), the victim's tokens
 * keep resolving, and the user row is untouched. Credentials are checked before the body is
 * read.
 */
describe('shared signals: forged SETs and push credential attacks', () => {
  const w = perSuite(new SsfWorld(), 'ssf_attacks');
  let victimId = '';
  let before: Record<string, unknown> = {};
  let token = '';
  const event = () => ({
    type: 'account-disabled',
    subject: iss('victim'),
    payload: { event_timestamp: w.now() - 5 },
  });

  beforeAll(async () => {
    victimId = await w.seed('victim');
    token = await w.token('victim', 5);
    expect(await w.answer(token)).toBe('OK');
    before = await w.user(victimId);
  });

  afterEach(async () => {
    // Whatever the attack, the victim is untouched on every transport.
    expect(await w.user(victimId)).toEqual(before);
    expect(await w.answer(token)).toBe('OK');
  });

  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it.each([
    [
      'another key',
      async () => (await w.tx.mint(event(), { key: await makeKey('ES256', w.tx.key.kid) })).set,
      400,
      'invalid_key',
    ],
    [
      'an unknown kid',
      async () => (await w.tx.mint(event(), { header: { kid: 'nope' } })).set,
      400,
      'invalid_key',
    ],
    [
      'alg none',
      async () => {
        const { set } = await w.tx.mint(event());
        const payload = set.split('.')[1] as string;
        return `${b64({ alg: 'none', typ: 'secevent+jwt' })}.${payload}.`;
      },
      400,
      'invalid_request',
    ],
    [
      'a key in the header (jwk), signed by it',
      async () => {
        const attacker = await makeKey('ES256', w.tx.key.kid);
        return (await w.tx.mint(event(), { key: attacker, header: { jwk: attacker.publicJwk } }))
          .set;
      },
      400,
      'invalid_key',
    ],
    [
      'a wrong aud',
      async () => (await w.tx.mint(event(), { aud: 'https://elsewhere/ssf' })).set,
      400,
      'invalid_audience',
    ],
    [
      'a wrong iss',
      async () => (await w.tx.mint(event(), { iss: 'https://evil.example' })).set,
      400,
      'invalid_issuer',
    ],
    [
      'a missing typ',
      async () => (await w.tx.mint(event(), { header: { typ: undefined } })).set,
      400,
      'invalid_request',
    ],
    [
      'typ JWT',
      async () => (await w.tx.mint(event(), { header: { typ: 'JWT' } })).set,
      400,
      'invalid_request',
    ],
    [
      'two events in one SET',
      async () =>
        (
          await w.tx.mint(event(), {
            claims: {
              events: {
                'https://schemas.openid.net/secevent/risc/event-type/account-disabled': {},
                'https://schemas.openid.net/secevent/risc/event-type/account-purged': {},
              },
            },
          })
        ).set,
      400,
      'invalid_request',
    ],
    [
      'a subject of another issuer',
      async () =>
        (
          await w.tx.mint({
            ...event(),
            subject: { format: 'iss_sub', iss: 'https://other.idp.test', sub: 'victim' },
          })
        ).set,
      403,
      'access_denied',
    ],
    [
      'a complex subject naming another tenant',
      async () =>
        (
          await w.tx.mint({
            ...event(),
            subject: {
              format: 'complex',
              user: iss('victim'),
              tenant: { format: 'opaque', id: 'acme' },
            },
          })
        ).set,
      403,
      'access_denied',
    ],
    [
      'an aliases subject with one identifier of another issuer',
      async () =>
        (
          await w.tx.mint({
            ...event(),
            subject: {
              format: 'aliases',
              identifiers: [
                iss('victim'),
                { format: 'iss_sub', iss: 'https://other.idp.test', sub: 'x' },
              ],
            },
          })
        ).set,
      403,
      'access_denied',
    ],
    [
      'a subject whose members come only from __proto__',
      async () =>
        (
          await w.tx.mint({
            ...event(),
            subject: JSON.parse(
              `{"__proto__": {"format": "iss_sub", "iss": "${ISSUER}", "sub": "victim"}}`,
            ) as { format: string },
          })
        ).set,
      400,
      'invalid_request',
    ],
    [
      'a non-canonical subject (a fold the issuer did not configure)',
      async () => (await w.tx.mint({ ...event(), subject: iss('VICTIM ') })).set,
      400,
      'invalid_request',
    ],
    [
      "the other transmitter's SET on this transmitter's route",
      async () => (await w.other.mint(event())).set,
      400,
      'invalid_key',
    ],
    [
      'an oversized SET',
      async () => (await w.tx.mint(event(), { claims: { padding: 'x'.repeat(20_000) } })).set,
      400,
      'invalid_request',
    ],
    ['not a JWT', () => Promise.resolve('not-a-jwt'), 400, 'invalid_request'],
    [
      'a JWE-shaped body',
      () => Promise.resolve(compact({ alg: 'dir' }, {}, 'x') + '.a.b'),
      400,
      'invalid_request',
    ],
  ])('refuses %s, and changes nothing', async (_name, make, status, err) => {
    const res = await w.tx.push(w.pushUrl('okta'), await make());
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ err });
    expect(typeof (res.body as { description?: unknown }).description).toBe('string');
  });

  it('acknowledges a prototype key as the event type (unknown, counted) and applies nothing', async () => {
    const { set } = await w.tx.mint(event(), {
      claims: { events: JSON.parse('{"__proto__": {"subject": {"format": "iss_sub"}}}') as object },
    });
    expect((await w.tx.push(w.pushUrl('okta'), set)).status).toBe(202);
    expect(({} as Record<string, unknown>).subject).toBeUndefined();
  });

  describe('push credential', () => {
    it.each([
      ['missing', undefined],
      ['wrong', 'Bearer not-the-credential-0123456789'],
      ['not a bearer', `Basic ${Buffer.from('okta:x').toString('base64')}`],
    ])('%s: 401 authentication_failed', async (_name, authorization) => {
      const { set } = await w.tx.mint(event());
      // Not the fixture's push: it sends its own credential when none is given.
      const res = await fetch(w.pushUrl('okta'), {
        method: 'POST',
        headers: {
          'content-type': 'application/secevent+jwt',
          ...(authorization === undefined ? {} : { authorization }),
        },
        body: set,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ssf"');
      expect(await res.json()).toMatchObject({ err: 'authentication_failed' });
    });

    it("another transmitter's credential, or an unknown transmitter: the same 401", async () => {
      const { set } = await w.tx.mint(event());
      const crossed = await w.tx.push(w.pushUrl('okta'), set, `Bearer ${w.other.bearer}`);
      expect(crossed.status).toBe(401);
      const unknown = await w.tx.push(w.pushUrl('nobody'), set);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(crossed.body);
    });

    it('a body that is not application/secevent+jwt is 400 invalid_request', async () => {
      const { set } = await w.tx.mint(event());
      const res = await fetch(w.pushUrl('okta'), {
        method: 'POST',
        headers: { authorization: `Bearer ${w.tx.bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ set }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ err: 'invalid_request' });
    });

    it('is checked before the body is read: 401 at once without it, a wait with it', async () => {
      const port = Number(new URL(w.app.url).port);
      const headersOnly = (headers: Record<string, string>, ms: number) =>
        new Promise<string | undefined>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let answer = '';
          const timer = setTimeout(() => {
            socket.destroy();
            resolve(undefined);
          }, ms);
          socket.on('data', (chunk) => {
            answer += chunk.toString('latin1');
            if (answer.includes('\r\n')) {
              clearTimeout(timer);
              socket.destroy();
              resolve(answer.slice(0, answer.indexOf('\r\n')));
            }
          });
          socket.on('error', reject);
          const lines = Object.entries({
            host: `127.0.0.1:${port}`,
            'content-type': 'application/secevent+jwt',
            'content-length': '8000',
            ...headers,
          }).map(([k, v]) => `${k}: ${v}`);
          socket.write(`POST /ssf/push/okta HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
        });
      expect(await headersOnly({}, 3_000)).toBe('HTTP/1.1 401 Unauthorized');
      expect(
        await headersOnly({ authorization: 'Bearer wrong-credential-0123456789' }, 3_000),
      ).toBe('HTTP/1.1 401 Unauthorized');
      expect(await headersOnly({ authorization: `Bearer ${w.tx.bearer}` }, 400)).toBeUndefined();
    });

    it('counts refusals by error code', async () => {
      const metrics = await w.metrics();
      for (const err of [
        'invalid_key',
        'invalid_issuer',
        'invalid_audience',
        'invalid_request',
        'access_denied',
      ])
        expect(metrics).toMatch(
          new RegExp(
            `resolver_ssf_events_total\\{transmitter="okta",event="[a-z-]+",result="${err}"\\} [1-9]`,
          ),
        );
    });
  });
});
