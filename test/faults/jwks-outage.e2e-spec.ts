import { createTestDatabase, sqlPool } from '../support/database';
import { eventually } from '../support/eventually';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, tally, withConcurrency } from './load';

const AUD = 'api://fault-jwks';
const FETCH_TIMEOUT_MS = 400;

/** A key-fetch timeout long enough that a request which waited on a fetch cannot pass for one that did not. */
const SLOW_TIMEOUT_MS = 2_000;

/**
 * The IdP's JWKS endpoint down (503) or hung (accepts, never answers). Keys already fetched keep
 * verifying tokens, and no request waits on a refetch while they can (stale-while-revalidate);
 * an issuer with nothing cached answers KEYS_UNAVAILABLE, waiting at most the key-fetch timeout
 * the first time and not at all once a fetch has failed; and it recovers within about a second
 * of the IdP's return.
 */
describe('fault: JWKS endpoint down or slow', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let warmPath: string;
  let coldPath: string;
  const warm = 'https://fault-jwks-warm.idp.test';
  const cold = 'https://fault-jwks-cold.idp.test';
  const first = 'https://fault-jwks-first.idp.test';
  const swr = 'https://fault-jwks-swr.idp.test';
  const stale = 'https://fault-jwks-stale.idp.test';
  let swrPath: string;
  let stalePath: string;
  const now = () => Math.floor(Date.now() / 1000);
  // Keys count as stale at once and refetches are not rate-limited, so every request below
  // tries the IdP again: the worst case for a request's latency.
  const jwks = { timeoutMs: FETCH_TIMEOUT_MS, cacheMaxAgeMs: 1, cooldownMs: 0 };

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase('fault_jwks');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('fault-jwks');
    const warmUri = idp.publishJwks('warm', keys.publicJwks());
    const coldUri = idp.publishJwks('cold', keys.publicJwks());
    const firstUri = idp.publishJwks('first', keys.publicJwks());
    const swrUri = idp.publishJwks('swr', keys.publicJwks());
    const staleUri = idp.publishJwks('stale', keys.publicJwks());
    swrPath = new URL(swrUri).pathname;
    stalePath = new URL(staleUri).pathname;
    warmPath = new URL(warmUri).pathname;
    coldPath = new URL(coldUri).pathname;
    app = await ResolverHarness.start({
      databaseUrl,
      // Every request must verify (and so consult the key source): no verified-token cache.
      config: { cache: { enabled: false } },
      issuers: [
        { issuer: warm, jwksUri: warmUri, audiences: [AUD], algorithms: ['RS256'], jwks },
        { issuer: cold, jwksUri: coldUri, audiences: [AUD], algorithms: ['RS256'], jwks },
        // Default refetch cooldown: the first fetch starts the cooldown for everyone else.
        { issuer: first, jwksUri: firstUri, audiences: [AUD], algorithms: ['RS256'] },
        // Stale at once, a slow timeout, refetches not rate-limited: any request that waited on
        // a refetch would take the whole timeout.
        {
          issuer: swr,
          jwksUri: swrUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          jwks: { timeoutMs: SLOW_TIMEOUT_MS, cacheMaxAgeMs: 1, cooldownMs: 0 },
        },
        // Keys unusable 1.5 s after their fetch; the default 30 s cooldown.
        {
          issuer: stale,
          jwksUri: staleUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          jwks: { timeoutMs: 1_000, cacheMaxAgeMs: 1, maxStaleMs: 1_500 },
        },
      ],
    });
    const sql = sqlPool(databaseUrl);
    const { rows } = await sql.query(
      `INSERT INTO users (email, provenance) VALUES ('jwks@example.com', 'admin') RETURNING id`,
    );
    await sql.query(
      `INSERT INTO external_identities (issuer, subject, user_id) VALUES ($1, 'jwks-user', $2)`,
      [warm, rows[0].id],
    );
    await sql.end();
  });

  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  const timedBurst = async (token: string, n: number) => {
    const tasks = Array.from({ length: n }, (_, i) => async () => {
      const started = performance.now();
      const answer =
        i % 2 === 0
          ? await httpAnswer(app.url, token)
          : grpcAnswer(await app.resolveGrpc({ token }));
      return { ...answer, startedAt: 0, endedAt: 0, ms: performance.now() - started };
    });
    return withConcurrency(10, tasks);
  };

  it('concurrent first requests share one fetch and all verify', async () => {
    const token = await keys.sign(claimsFor(first, AUD, now(), { sub: 'nobody' }));
    const answers = await timedBurst(token, 20);
    expect(tally(answers)).toEqual({ '401 USER_NOT_FOUND': 20 });
    expect(idp.requests('/jwks/first')).toBe(1);
  });

  it('keeps verifying with the cached keys while the JWKS endpoint answers 503', async () => {
    const token = await keys.sign(claimsFor(warm, AUD, now(), { sub: 'jwks-user' }));
    expect((await app.resolveHttp({ token })).status).toBe(200); // keys fetched and cached
    const before = idp.requests(warmPath);
    idp.fail(warmPath);
    try {
      const answers = await timedBurst(token, 20);
      expect(tally(answers)).toEqual({ '200': 20 });
    } finally {
      idp.recover(warmPath);
    }
    expect(idp.requests(warmPath)).toBeGreaterThan(before);
    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /^resolver_jwks_fetches_total\{issuer="https:\/\/fault-jwks-warm.idp.test",result="failure"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^resolver_jwks_keys_age_seconds\{issuer="https:\/\/fault-jwks-warm.idp.test"\} \d/m,
    );
  });

  it('keeps verifying, each request bounded by the fetch timeout, while the endpoint hangs', async () => {
    const token = await keys.sign(claimsFor(warm, AUD, now(), { sub: 'jwks-user' }));
    expect((await app.resolveHttp({ token })).status).toBe(200); // keys fetched and cached
    const before = idp.requests(warmPath);
    idp.stall(warmPath);
    let answers: Awaited<ReturnType<typeof timedBurst>>;
    try {
      answers = await timedBurst(token, 20);
    } finally {
      idp.recover(warmPath);
    }
    expect(idp.requests(warmPath)).toBeGreaterThan(before);
    expect(tally(answers)).toEqual({ '200': 20 });
    for (const { ms } of answers) expect(ms).toBeLessThan(FETCH_TIMEOUT_MS + 1_000);
  });

  it('an issuer with no cached keys answers KEYS_UNAVAILABLE within the fetch timeout', async () => {
    const token = await keys.sign(claimsFor(cold, AUD, now(), { sub: 'anyone' }));
    idp.stall(coldPath);
    let answers: Awaited<ReturnType<typeof timedBurst>>;
    try {
      answers = await timedBurst(token, 6);
    } finally {
      idp.recover(coldPath);
    }
    expect(tally(answers)).toEqual({ '503 KEYS_UNAVAILABLE': 6 });
    for (const { ms } of answers) expect(ms).toBeLessThan(FETCH_TIMEOUT_MS + 1_000);
    // Once the IdP answers again, the same token verifies (and the user is simply unknown): the
    // retry runs behind the requests, about once a second at most.
    await eventually(
      'the same token verifies after the IdP returns',
      async () => (await app.resolveHttp({ token })).body.reason === 'USER_NOT_FOUND',
      3_000,
    );
  });

  it('stale-while-revalidate: no new-token request waits on the hung refetch while cached keys verify', async () => {
    const sign = () => keys.sign(claimsFor(swr, AUD, now(), { sub: 'nobody' }));
    expect((await app.resolveHttp({ token: await sign() })).body.reason).toBe('USER_NOT_FOUND');
    const before = idp.requests(swrPath);
    idp.stall(swrPath);
    const answers: Awaited<ReturnType<typeof timedBurst>> = [];
    try {
      // A new token every request: each one is verified, each one finds its keys stale.
      for (let i = 0; i < 4; i++) answers.push(...(await timedBurst(await sign(), 6)));
    } finally {
      idp.recover(swrPath);
    }
    expect(tally(answers)).toEqual({ '401 USER_NOT_FOUND': 24 });
    // Waiting on the refetch would have taken SLOW_TIMEOUT_MS.
    for (const { ms } of answers) expect(ms).toBeLessThan(SLOW_TIMEOUT_MS / 2);
    // One refetch at a time, all behind the requests: the burst is over long before it times out.
    const refetches = idp.requests(swrPath) - before;
    expect(refetches).toBeGreaterThanOrEqual(1);
    expect(refetches).toBeLessThanOrEqual(2);
  });

  it('past maxStaleMs with the IdP hung: KEYS_UNAVAILABLE at once, the JWKS retried about once a second, recovery within about a second', async () => {
    const sign = () => keys.sign(claimsFor(stale, AUD, now(), { sub: 'nobody' }));
    expect((await app.resolveHttp({ token: await sign() })).body.reason).toBe('USER_NOT_FOUND');
    const fetched = performance.now();
    idp.stall(stalePath);
    try {
      // Stale keys still verify, at once; this request starts the refresh that hangs and fails
      // after its 1 s timeout, before the keys pass maxStaleMs.
      expect((await app.resolveHttp({ token: await sign() })).body.reason).toBe('USER_NOT_FOUND');
      await new Promise((resolve) => setTimeout(resolve, 1_700 - (performance.now() - fetched)));
      const before = idp.requests(stalePath);
      const answers: { status: number; reason?: string; ms: number }[] = [];
      const until = performance.now() + 2_500;
      while (performance.now() < until) {
        const started = performance.now();
        const answer = await httpAnswer(app.url, await sign());
        answers.push({ ...answer, ms: performance.now() - started });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(answers.length).toBeGreaterThan(5);
      expect(new Set(answers.map((a) => `${a.status} ${a.reason}`))).toEqual(
        new Set(['503 KEYS_UNAVAILABLE']),
      );
      // Waiting on the retry would have taken its 1 s timeout.
      for (const { ms } of answers) expect(ms).toBeLessThan(500);
      // Retried about once a second over those 2.5 s, whatever the 30 s cooldown says, and not
      // once per request.
      const retries = idp.requests(stalePath) - before;
      expect(retries).toBeGreaterThanOrEqual(2);
      expect(retries).toBeLessThanOrEqual(4);
    } finally {
      idp.recover(stalePath);
    }
    const recoveredFrom = performance.now();
    await eventually(
      'tokens verify again once the IdP answers',
      async () => (await app.resolveHttp({ token: await sign() })).body.reason === 'USER_NOT_FOUND',
      3_000,
    );
    expect(performance.now() - recoveredFrom).toBeLessThan(2_000);
  });
});
