import { createServer, type Server } from 'node:http';
import type { JWK } from 'jose';
import { type JwksPolicy } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { RemoteJwksSource, UNAVAILABLE_RETRY_MS } from './key-source';

const POLICY: JwksPolicy = {
  timeoutMs: 200,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  maxStaleMs: 3_600_000,
};
const key = (kid: string): JWK => ({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid });

/**
 * An IdP double: serves whatever `keys` holds, fails while `down`, or while `hung` holds each
 * request open until {@link FakeIdp.timeOut} (the fetch's own timeout, under the test's
 * control); counts requests.
 */
class FakeIdp {
  keys: unknown[] = [key('k1')];
  down = false;
  hung = false;
  requests = 0;
  private held: Array<() => void> = [];
  readonly fetch = async (_url: string, _timeoutMs: number): Promise<unknown> => {
    this.requests++;
    if (this.hung)
      await new Promise<void>((_, reject) =>
        this.held.push(() => reject(new Error('The operation was aborted due to timeout'))),
      );
    await Promise.resolve();
    if (this.down) throw new Error('GET jwks: HTTP 503');
    return { keys: this.keys };
  };
  /** Every held request fails as its fetch timeout would fail it. */
  timeOut(): void {
    for (const fail of this.held.splice(0)) fail();
  }
  get open(): number {
    return this.held.length;
  }
}

/** Lets background fetches (a few promise hops) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** How long a promise takes to settle, in ms, and its reason code ('OK' when it resolves). */
const timed = async (promise: Promise<unknown>) => {
  const started = performance.now();
  const reason = await reasonOf(promise);
  return { reason, ms: performance.now() - started };
};

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

  it('heldKeys: what keysFor answers at once, and nothing while only a fetch can answer', async () => {
    const { source, idp, clock } = setup();
    expect(source.heldKeys('k1')).toBeUndefined();
    expect(idp.requests).toBe(0);
    await source.keysFor('k1');
    expect(kids(source.heldKeys('k1') ?? [])).toEqual(['k1']);
    // Without a kid any usable key may have signed; an unknown kid needs a refetch.
    expect(kids(source.heldKeys(undefined) ?? [])).toEqual(['k1']);
    expect(source.heldKeys('k9')).toBeUndefined();
    // Stale: still answered at once, with one refresh behind it (as keysFor does).
    clock.advance(POLICY.cacheMaxAgeMs);
    idp.keys = [key('k2')];
    expect(kids(source.heldKeys('k1') ?? [])).toEqual(['k1']);
    await settle();
    expect(idp.requests).toBe(2);
    expect(kids(source.heldKeys('k2') ?? [])).toEqual(['k2']);
    // Past maxStaleMs after failures: nothing held, keysFor decides (KEYS_UNAVAILABLE).
    idp.down = true;
    clock.advance(POLICY.maxStaleMs);
    expect(source.heldKeys('k2')).toBeUndefined();
    expect(await reasonOf(source.keysFor('k2'))).toBe('KEYS_UNAVAILABLE');
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
    // Expired: served once more while the refresh runs behind the request, then gone.
    expect(kids(await source.keysFor('k1'))).toEqual(['k1', 'k2']);
    await settle();
    expect(kids(await source.keysFor('k1'))).toEqual(['k2']);
    expect(idp.requests).toBe(3);
  });

  it('stale-while-revalidate: expired keys answer at once while the refetch hangs, one refetch for all', async () => {
    const { source, idp, clock } = setup({ timeoutMs: 5_000 });
    await source.keysFor('k1');
    idp.hung = true;
    clock.advance(POLICY.cacheMaxAgeMs);
    for (let i = 0; i < 20; i++) {
      const { reason, ms } = await timed(source.keysFor('k1'));
      expect(reason).toBe('OK');
      expect(ms).toBeLessThan(50); // nowhere near the 5 s timeout
    }
    expect(idp.requests).toBe(2);
    expect(idp.open).toBe(1);
    // The refresh fails (its timeout): degraded, the same keys keep answering at once.
    idp.timeOut();
    await settle();
    expect(source.state()).toMatchObject({ status: 'degraded', keyIds: ['k1'] });
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    // The next refresh comes one cooldown after the failed one, still behind the requests.
    clock.advance(POLICY.cooldownMs - 1);
    await source.keysFor('k1');
    expect(idp.requests).toBe(2);
    clock.advance(1);
    idp.hung = false;
    idp.keys = [key('k1'), key('k2')];
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    await settle();
    expect(idp.requests).toBe(3);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1', 'k2']);
    expect(source.state().status).toBe('ok');
  });

  it('a cache max age shorter than the cooldown: the refresh after a successful fetch is not held back by the cooldown', async () => {
    const { source, idp, clock } = setup({ cacheMaxAgeMs: 1_000, maxStaleMs: 2_000 });
    await source.keysFor('k1');
    clock.advance(1_000);
    await source.keysFor('k1');
    await settle();
    expect(idp.requests).toBe(2);
    clock.advance(1_500);
    // Fresh keys from that refresh: nothing expired, nothing unavailable.
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
  });

  it('an unknown kid waits for the refetch at most timeoutMs, then answers with the cached keys', async () => {
    const { source, idp, clock } = setup({ timeoutMs: 60 });
    await source.keysFor('k1');
    idp.hung = true;
    clock.advance(POLICY.cooldownMs);
    const { reason, ms } = await timed(source.keysFor('k9'));
    expect(reason).toBe('OK');
    expect(ms).toBeGreaterThanOrEqual(55);
    expect(ms).toBeLessThan(60 + 200);
    // The refetch is still under way: the next unknown kid joins it (no second request), bounded
    // again; a known kid does not wait at all.
    const known = await timed(source.keysFor('k1'));
    expect(known.ms).toBeLessThan(20);
    await source.keysFor('k8');
    expect(idp.requests).toBe(2);
    idp.timeOut();
    await settle();
    // Cooling down after that attempt: unknown kids answer at once with what is cached.
    const again = await timed(source.keysFor('k7'));
    expect(again.ms).toBeLessThan(20);
    expect(idp.requests).toBe(2);
  });

  it('past maxStaleMs after a failed refetch: KEYS_UNAVAILABLE at once, retried about once a second whatever the cooldown', async () => {
    const { source, idp, clock } = setup({ timeoutMs: 5_000 });
    await source.keysFor('k1');
    idp.down = true;
    clock.advance(POLICY.cacheMaxAgeMs);
    await source.keysFor('k1');
    await settle();
    expect(source.state().status).toBe('degraded');
    expect(idp.requests).toBe(2);
    clock.advance(POLICY.maxStaleMs - POLICY.cacheMaxAgeMs);
    idp.down = false;
    idp.hung = true;
    // No usable key: the answer comes at once even though the retry it starts hangs.
    for (let i = 0; i < 10; i++) {
      const { reason, ms } = await timed(source.keysFor('k1'));
      expect(reason).toBe('KEYS_UNAVAILABLE');
      expect(ms).toBeLessThan(50);
    }
    expect(source.state().status).toBe('unavailable');
    expect(idp.requests).toBe(3); // one retry, shared
    idp.timeOut();
    await settle();
    clock.advance(UNAVAILABLE_RETRY_MS - 1);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(idp.requests).toBe(3);
    // About a second later (a 30 s cooldown notwithstanding) the IdP is asked again; once it
    // answers, the keys verify again.
    idp.hung = false;
    clock.advance(1);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(idp.requests).toBe(4);
    await settle();
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    expect(source.state().status).toBe('ok');
  });

  it('outage: serves the last good keys (degraded) until maxStaleMs, then KEYS_UNAVAILABLE', async () => {
    const { source, idp, clock, observed } = setup();
    await source.keysFor('k1');
    idp.down = true;
    clock.advance(POLICY.cacheMaxAgeMs);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    await settle(); // the refresh behind that request fails
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
    await settle(); // the retry that answer started fails too
    idp.down = false;
    clock.advance(UNAVAILABLE_RETRY_MS);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE'); // starts the retry
    await settle();
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
    expect(source.state().status).toBe('ok');
    expect(observed).toContain('failure');
    expect(observed[observed.length - 1]).toBe('success');
  });

  it('with no keys ever fetched, the first request waits for the fetch; after it failed, answers at once and retries about once a second', async () => {
    const { source, idp, clock } = setup();
    idp.down = true;
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(idp.requests).toBe(1);
    expect(source.state()).toMatchObject({ status: 'unavailable', keyIds: [] });
    idp.down = false;
    clock.advance(UNAVAILABLE_RETRY_MS - 1);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    expect(idp.requests).toBe(1);
    clock.advance(1);
    expect(await reasonOf(source.keysFor('k1'))).toBe('KEYS_UNAVAILABLE');
    await settle();
    expect(idp.requests).toBe(2);
    expect(kids(await source.keysFor('k1'))).toEqual(['k1']);
  });

  it('the first fetch on a hung IdP: requests wait at most timeoutMs, together', async () => {
    const { source, idp } = setup({ timeoutMs: 60 });
    idp.hung = true;
    const all = await Promise.all(Array.from({ length: 5 }, () => timed(source.keysFor('k1'))));
    for (const { reason, ms } of all) {
      expect(reason).toBe('KEYS_UNAVAILABLE');
      expect(ms).toBeLessThan(60 + 200);
    }
    expect(idp.requests).toBe(1);
    expect(source.state().status).toBe('pending'); // still under way
    idp.timeOut();
    await settle();
    expect(source.state().status).toBe('unavailable');
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
    await settle();
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
      // The request stopped waiting at timeoutMs; the fetch's own abort lands about then too.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(source.state().status).toBe('unavailable');
    });
  });
});
