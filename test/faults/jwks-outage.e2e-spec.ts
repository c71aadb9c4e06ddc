import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, tally, withConcurrency } from './load';

const AUD = 'api://fault-jwks';
const FETCH_TIMEOUT_MS = 400;

/**
 * The IdP's JWKS endpoint down (503) or hung (accepts, never answers). Keys already fetched keep
 * verifying tokens; an issuer with nothing cached answers KEYS_UNAVAILABLE; and no request waits
 * longer than the key-fetch timeout (plus a generous margin for the rest of the request).
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
    // Once the IdP answers again, the same token verifies (and the user is simply unknown).
    expect((await app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
  });
});
