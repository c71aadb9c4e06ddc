import { Pool } from 'pg';
import { isResolutionError } from '@resolver/reasons';
import { PoolGate, PoolWaitTimeout, withStoreRetry } from '../../libs/identity/src';
import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, sleep, tally, withConcurrency } from './load';

const AUD = 'api://fault-overload';
const issuer = 'https://fault-overload.idp.test';

/** Captures the structured log lines of one app. */
class Capture {
  private text = '';
  write(chunk: string): void {
    this.text += chunk;
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/**
 * A pool that cannot hand out a connection in time is answered as *overloaded*, distinctly from
 * an outage: its own reason (USER_STORE_OVERLOADED: 503 / UNAVAILABLE like an outage, Retry-After
 * 2), metric label and log detail; never "not found"; and a request answered so writes nothing
 * afterwards. An outage (nothing answered while waiting) stays USER_STORE_UNAVAILABLE
 * (test/faults/slow-database.e2e-spec.ts holds that for the whole app).
 */
describe('fault: an overloaded pool', () => {
  let databaseUrl: string;
  const pools: Pool[] = [];
  const poolOf = (max: number, connectionTimeoutMillis: number) => {
    const pool = new Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis });
    pools.push(pool);
    return { pool, gate: PoolGate.of(pool) };
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('fault_overload');
  });

  afterAll(async () => {
    for (const pool of pools) await pool.end();
  });

  it('a wait that ends while the store keeps answering is overloaded; while nothing is answered, an outage', async () => {
    const busy = poolOf(1, 150);
    const began = Date.now();
    const burst = Promise.allSettled(
      Array.from({ length: 40 }, () => busy.gate.query({ text: 'SELECT pg_sleep(0.02)' })),
    );
    await sleep(100);
    // What a request's deadline asks: queued, while the store answers (overload, not outage).
    expect(busy.gate.busySince(began)).toBe(true);
    const settled = await burst;
    expect(busy.gate.busySince(began)).toBe(false);
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(settled.length - refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(isResolutionError(error) && error.reason).toBe('USER_STORE_OVERLOADED');
      expect((error as Error).message).toMatch(/^overloaded: waited \d+ ms for a pool connection/);
    }

    const hung = poolOf(1, 150);
    const hog = hung.gate.query({ text: 'SELECT pg_sleep(0.6)' });
    await sleep(50);
    const asked = Date.now();
    const waiting = hung.gate.query({ text: 'SELECT 1' }).catch((e: unknown) => e);
    await sleep(50);
    expect(hung.gate.busySince(asked)).toBe(false);
    const waited = await waiting;
    expect(waited).toBeInstanceOf(PoolWaitTimeout);
    // Through the store's retry it is the outage it is: USER_STORE_UNAVAILABLE, never overload.
    const answer = await withStoreRetry(() => hung.gate.query({ text: 'SELECT 1' }), {
      attempts: 0,
      backoffMs: 0,
    }).catch((e: unknown) => e);
    expect(isResolutionError(answer) && answer.reason).toBe('USER_STORE_UNAVAILABLE');
    expect((answer as Error).message).toMatch(/the store is not answering/);
    await hog;
  });

  it("a caller's deadline ends its wait, and the connection that comes later runs nothing", async () => {
    const setup = sqlPool(databaseUrl);
    await setup.query('CREATE TABLE late_writes (x int)');
    const { pool, gate } = poolOf(1, 2_000);
    const hog = gate.query({ text: 'SELECT pg_sleep(0.4)' });
    await sleep(50);
    const started = Date.now();
    const error = await gate
      .query({ text: 'INSERT INTO late_writes VALUES (1)' }, Date.now() + 80)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(PoolWaitTimeout);
    await hog;
    await sleep(200);
    expect((await setup.query('SELECT count(*)::int AS n FROM late_writes')).rows[0].n).toBe(0);
    // The late connection went straight back to the pool, healthy.
    expect(pool.idleCount).toBe(1);
    await expect(gate.query({ text: 'SELECT 1' })).resolves.toBeDefined();
    await setup.end();
  });

  it('the app answers a burst past its pool USER_STORE_OVERLOADED (503, Retry-After 2, metric, log), never not found, and writes nothing after', async () => {
    const idp = await new JwksServer().start();
    const keys = await TokenFactory.create('fault-overload');
    const capture = new Capture();
    // Migrated beforehand: booting migrates on a connection of its own, which this pool lacks.
    const migrated = await ResolverHarness.start({ databaseUrl, issuers: [] });
    await migrated.close();
    const app = await ResolverHarness.start({
      databaseUrl,
      // One connection, and a queue wait of 150 ms: most of the burst cannot get it in time.
      // The wait is longer than one statement (a JIT call takes tens of ms on a loaded 2-core
      // box): a wait shorter than the statement ahead of it sees no answer, which is how an
      // outage looks (the first test), not what this one is about.
      config: {
        database: { poolSize: 1, connectTimeoutMs: 150, retryAttempts: 1, migrationsRun: false },
        logging: { level: 'warn' },
      },
      logDestination: capture,
      issuers: [
        {
          issuer,
          jwksUri: idp.publishJwks('overload', keys.publicJwks()),
          audiences: [AUD],
          algorithms: ['ES256'],
          jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
        },
      ],
    });
    const sql = sqlPool(databaseUrl);
    try {
      const subjects = 150;
      const now = Math.floor(Date.now() / 1000);
      const tokens = await Promise.all(
        Array.from({ length: subjects }, (_, i) =>
          keys.sign(claimsFor(issuer, AUD, now, { sub: `ov-${i}`, email: `ov-${i}@x.test` }), {
            key: keys.ec,
          }),
        ),
      );
      const retryAfter: string[] = [];
      const answers = await Promise.all(
        tokens.map(async (token, i) => {
          if (i % 3 === 2) return { ...grpcAnswer(await app.resolveGrpc({ token })), i };
          const res = await app.resolveHttp({ token });
          if (res.status === 503) retryAfter.push(res.headers.get('retry-after') ?? '');
          return { transport: 'http', status: res.status, reason: res.body.reason as string, i };
        }),
      );
      const counts = tally(
        answers.map((a) => ({ ...a, transport: 'http', startedAt: 0, endedAt: 0 })),
      );
      console.log(`overload burst: ${JSON.stringify(counts)}`);
      console.log(
        JSON.stringify(
          capture
            .lines()
            .filter((l) => l.reason === 'USER_STORE_UNAVAILABLE')
            .map((l) => l.detail)
            .slice(0, 5),
        ),
      );
      // Some got through, the rest were answered as overloaded; nothing else.
      expect(Object.keys(counts).sort()).toEqual(['200', '503 USER_STORE_OVERLOADED']);
      expect(new Set(retryAfter)).toEqual(new Set(['2']));
      const metrics = (await app.http('/metrics')).body as string;
      expect(metrics).toMatch(
        /^resolver_resolutions_total\{outcome="unavailable",reason="USER_STORE_OVERLOADED",issuer="https:\/\/fault-overload\.idp\.test",transport="http"\} [1-9]/m,
      );
      const failures = capture.lines().filter((l) => l.event === 'resolution_failed');
      expect(failures.length).toBe(counts['503 USER_STORE_OVERLOADED']);
      for (const line of failures) {
        expect(line.reason).toBe('USER_STORE_OVERLOADED');
        expect(line.detail).toMatch(/^overloaded: /);
      }

      // Every user written is whole (user and link), and nothing is written after the answers.
      const rows = async () =>
        (
          await sql.query<{ users: number; links: number }>(
            `SELECT (SELECT count(*)::int FROM users) AS users,
                    (SELECT count(*)::int FROM external_identities) AS links`,
          )
        ).rows[0];
      const after = await rows();
      expect(after?.users).toBe(after?.links);
      expect(after?.users).toBe(counts['200']);
      await sleep(1_000);
      expect(await rows()).toEqual(after);

      // Retried one by one, every subject is provisioned exactly once.
      const retried = await withConcurrency(
        1,
        tokens.map((token) => async () => (await app.resolveHttp({ token })).status),
      );
      expect(new Set(retried)).toEqual(new Set([200]));
      expect(await rows()).toEqual({ users: subjects, links: subjects });
    } finally {
      await sql.end();
      await app.close();
      await idp.stop();
    }
  });
});
