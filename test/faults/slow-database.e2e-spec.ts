import type { PoolClient } from 'pg';
import type { Pool } from 'pg';
import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, sleep, tally } from './load';

const AUD = 'api://fault-slow';
const issuer = 'https://fault-slow.idp.test';

/**
 * A slow store must cost a bounded wait and a 503, never a hang. The test hook is what a DBA's
 * migration does: another session holds `LOCK TABLE users IN ACCESS EXCLUSIVE MODE`, so every
 * lookup blocks in Postgres until something gives up — the statement timeout, the request
 * deadline, or (for requests queued behind a full pool) the pool's connection timeout.
 */
describe('fault: slow database', () => {
  let databaseUrl: string;
  let sql: Pool;
  let idp: JwksServer;
  let keys: TokenFactory;
  let jwksUri: string;
  let token: string;
  const apps: ResolverHarness[] = [];

  const start = async (database: Record<string, unknown>, server: Record<string, unknown> = {}) => {
    const app = await ResolverHarness.start({
      databaseUrl,
      // Every request must reach the store: caches off.
      config: { database: { retryAttempts: 0, ...database }, server, cache: { enabled: false } },
      issuers: [{ issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] }],
    });
    apps.push(app);
    return app;
  };

  /** Holds an exclusive lock on users until the returned function is called. */
  const lockUsers = async (): Promise<() => Promise<void>> => {
    const client: PoolClient = await sql.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await client.query('ROLLBACK');
      client.release();
    };
  };

  const timed = async <T>(fn: () => Promise<T>): Promise<{ answer: T; ms: number }> => {
    const started = performance.now();
    const answer = await fn();
    return { answer, ms: performance.now() - started };
  };

  /** With users locked, both transports answer 503 USER_STORE_UNAVAILABLE within `boundMs`. */
  const expectUnavailableWithin = async (app: ResolverHarness, boundMs: number) => {
    const release = await lockUsers();
    try {
      const http = await timed(() => httpAnswer(app.url, token));
      const grpc = await timed(async () => grpcAnswer(await app.resolveGrpc({ token })));
      for (const { answer, ms } of [http, grpc]) {
        expect(answer).toMatchObject({ status: 503, reason: 'USER_STORE_UNAVAILABLE' });
        expect(ms).toBeLessThan(boundMs);
      }
    } finally {
      await release();
    }
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('fault_slow');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('fault-slow');
    jwksUri = idp.publishJwks('slow', keys.publicJwks());
    token = await keys.sign(claimsFor(issuer, AUD, Math.floor(Date.now() / 1000), { sub: 'slow' }));
    sql = sqlPool(databaseUrl);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await sql?.end();
    await idp?.stop();
  });

  it('the statement timeout bounds a blocked lookup: 503 USER_STORE_UNAVAILABLE, not a hang', async () => {
    const statementTimeoutMs = 400;
    const app = await start({ statementTimeoutMs }, { requestTimeoutMs: 30_000 });
    expect((await app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
    await expectUnavailableWithin(app, statementTimeoutMs + 1_500);
    expect((await app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
  });

  it('the request deadline bounds the answer when the statement timeout is longer', async () => {
    const requestTimeoutMs = 500;
    const app = await start({ statementTimeoutMs: 20_000 }, { requestTimeoutMs });
    await expectUnavailableWithin(app, requestTimeoutMs + 1_500);
    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /resolver_resolutions_total\{outcome="unavailable",reason="USER_STORE_UNAVAILABLE",issuer="https:\/\/fault-slow.idp.test",transport="grpc"\} 1\b/,
    );
  });

  it('pool exhaustion queues boundedly, then refuses with 503', async () => {
    const poolSize = 2;
    const connectTimeoutMs = 800;
    const app = await start(
      { poolSize, connectTimeoutMs, statementTimeoutMs: 3_000 },
      { requestTimeoutMs: 30_000 },
    );
    // Ten different subjects: concurrent lookups of one subject would share a single query.
    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        keys.sign(claimsFor(issuer, AUD, now, { sub: `slow-${i}` })),
      ),
    );
    const release = await lockUsers();
    let results: { answer: Awaited<ReturnType<typeof httpAnswer>>; ms: number }[] = [];
    let waiting = 0;
    try {
      const burst = Promise.all(tokens.map((t) => timed(() => httpAnswer(app.url, t))));
      await sleep(300);
      const metrics = (await app.http('/metrics')).body as string;
      waiting = Number(
        /^resolver_db_pool_connections\{state="waiting"\} (\d+)/m.exec(metrics)?.[1],
      );
      expect(metrics).toMatch(
        new RegExp(`^resolver_db_pool_connections\\{state="in_use"\\} ${poolSize}$`, 'm'),
      );
      results = await burst;
    } finally {
      await release();
    }
    // Requests were queued for a connection (visible on /metrics), not sent to a hung database.
    expect(waiting).toBeGreaterThanOrEqual(1);
    // Every request was answered 503; those queued behind the full pool gave up after the
    // pool's connection timeout, well before the statement timeout held by the two in use.
    expect(tally(results.map((r) => ({ ...r.answer, startedAt: 0, endedAt: 0 })))).toEqual({
      '503 USER_STORE_UNAVAILABLE': 10,
    });
    const queuedAnswers = results
      .map((r) => r.ms)
      .sort((a, b) => a - b)
      .slice(0, 10 - poolSize);
    for (const ms of queuedAnswers) expect(ms).toBeLessThan(connectTimeoutMs + 1_500);
    expect((await app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
  });
});
