import { createServer, type Server } from 'node:http';
import type { JWK } from 'jose';
import { FixedClock, type JwksPolicy } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { RemoteJwksSource } from './key-source';

const POLICY: JwksPolicy = {
  timeoutMs: 200,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  maxStaleMs: 3_600_000,
};
const key = (kid: string): JWK => ({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid });

/** An IdP double: serves whatever `keys` holds, or fails while `down`; counts requests. */
class FakeIdp {
  keys: unknown[] = [key('k1')];
  down = false;
  requests = 0;
  readonly fetch = async (_url: string, _timeoutMs: number): Promise<unknown> => {
    this.requests++;
    await Promise.resolve();
    if (this.down) throw new Error('GET jwks: HTTP 503');
    return { keys: this.keys };
  };
}

function setup(policy: Partial<JwksPolicy> = {}) {
  const clock = new FixedClock(new Date('2026-11-23T12:00:00Z'));
  const idp = new FakeIdp();
  const observed: string[] = [];
  const source = new RemoteJwksSource(
    'https://idp.test/',
    async () => 'https://idp.test/jwks',
    { ...POLICY, ...policy },
    clock,
    (_issuer, result) => observed.push(result),
    'jwks',
    idp.fetch,
  );
  return { clock, idp, source, observed };
}

const kids = (keys: readonly JWK[]) => keys.map((k) => k.kid);
const reasonOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return (error as ResolutionError).reason;
  }
};

describe('RemoteJwksSource', () => {
  it('fetches on first use, then serves from the cache until the max age', async () => {
    const { source, idp, clock } = setup();
    expect(source.state().status).toBe('pending');
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    clock.advance(POLICY.cacheMaxAgeMs - 1);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    expect(idp.requests).toBe(1);
    expect(source.state()).toMatchObject({ status: 'ok', keyIds: ['k1'], degraded: false });
  });

  it('shares one request between concurrent callers', async () => {
    const { source, idp } = setup();
    const all = await Promise.all(Array.from({ length: 25 }, () => source.keysFor('k1')));
    expect(all.every((keys) => kids(keys)[0] === 'k1')).toBe(true);
    expect(idp.requests).toBe(1);
  });

  it('refetches for an unknown kid at most once per cooldown window', async () => {
    const { source, idp, clock } = setup();
    await source.keysFor('k1');
    clock.advance(POLICY.cooldownMs);
    for (let i = 0; i < 100; i++) await source.keysFor(`random-${i}`);
    expect(idp.requests).toBe(2);
    clock.advance(POLICY.cooldownMs - 1);
    await source.keysFor('random-x');
    expect(idp.requests).toBe(2);
    clock.advance(1);
    await source.keysFor('random-y');
    expect(idp.requests).toBe(3);
  });

  it('rotation: a newly published kid is picked up by one refetch; a removed one goes at max age', async () => {
    const { source, idp, clock } = setup();
    await source.keysFor('k1');
    idp.keys = [key('k1'), key('k2')];
    clock.advance(POLICY.cooldownMs);
    expect(kids(await source.keysFor('k2'))).toEqual(['k1', 'k2']);
    expect(idp.requests).toBe(2);
    idp.keys = [key('k2')];
    // Still cached: k1 is served until the cache expires.
    expect(kids(await source.keysFor('k1'))).toEqual(['k1', 'k2']);
    clock.advance(POLICY.cacheMaxAgeMs);
    expect(kids(await source.keysFor('k1'))).toEqual(['k2']);
    expect(idp.requests).toBe(3);
  });

  it('outage: serves the last good keys (degraded) until maxStaleMs, then KEYS_UNAVAILABLE', async () => {
    const { source, idp, clock, observed } = setup();
    await source.keysFor('k1');
    idp.down = true;
    clock.advance(POLICY.cacheMaxAgeMs);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    expect(source.state()).toMatchObject({
      status: 'degraded',
      degraded: true,
      lastError: 'GET jwks: HTTP 503',
    });
    // Failed fetches are retried at most once per cooldown, not once per token.
    const before = idp.requests;
    for (let i = 0; i < 50; i++) await source.keysFor('k1');
    expect(idp.requests).toBe(before);
    clock.advance(POLICY.maxStaleMs - POLICY.cacheMaxAgeMs - 1);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    clock.advance(1);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(source.state()).toMatchObject({ status: 'unavailable', degraded: false });
    idp.down = false;
    clock.advance(POLICY.cooldownMs);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    expect(source.state().status).toBe('ok');
    expect(observed).toContain('failure');
    expect(observed[observed.length - 1]).toBe('success');
  });

  it('with no keys ever fetched, answers KEYS_UNAVAILABLE and retries only after the cooldown', async () => {
    const { source, idp, clock } = setup();
    idp.down = true;
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(idp.requests).toBe(1);
    expect(source.state()).toMatchObject({ status: 'unavailable', keyIds: [] });
    idp.down = false;
    clock.advance(POLICY.cooldownMs);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
  });

  it('keeps only public asymmetric keys from the document, and treats a document without keys as a failure', async () => {
    const { source, idp, clock } = setup();
    idp.keys = [
      key('ec'),
      { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
      { ...key('private'), d: 'secret' },
      { kty: 'RSA', n: 'n', e: 'AQAB', p: 'p', kid: 'rsa-private' },
      'not a key',
      null,
    ];
    expect(kids(await source.keysFor('ec'))).toEqual(['ec']);
    idp.keys = undefined as unknown as unknown[];
    clock.advance(POLICY.cacheMaxAgeMs);
    expect(kids(await source.keysFor('ec'))).toEqual(['ec']);
    expect(source.state()).toMatchObject({
      status: 'degraded',
      lastError: 'JWKS has no "keys" array',
    });
  });

  describe('over real HTTP', () => {
    let server: Server;
    let base = '';
    let hits = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        hits++;
        if (req.url === '/stall') return; // never answers
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [key('http')] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const remote = (path: string) =>
      new RemoteJwksSource(
        'https://idp.test/',
        async () => `${base}${path}`,
        POLICY,
        new FixedClock(new Date('2026-11-23T12:00:00Z')),
      );

    it('fetches a JWKS document', async () => {
      expect(kids(await remote('/jwks').keysFor('http'))).toEqual(['http']);
    });

    it('gives up after timeoutMs on an IdP that never answers: KEYS_UNAVAILABLE', async () => {
      const before = hits;
      const source = remote('/stall');
      expect(await reasonOf(source.keysFor('http'))).toBe('KEYS_UNAVAILABLE');
      expect(hits).toBe(before + 1);
      expect(source.state().status).toBe('unavailable');
    });
  });
});
