import { seedUser, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, runLoad, type Sample, sleep, tally } from './load';
import { OwnPostgres } from '../support/own-postgres';

const AUD = 'api://fault-outage';
const KNOWN_USERS = 20;

/**
 * Postgres stopped under load, then restarted. During the outage every failed answer must be
 * USER_STORE_UNAVAILABLE (503 / UNAVAILABLE): no USER_NOT_FOUND, no 500, no dropped request, no
 * crash; within 2 s of the database returning, every answer is right again. The suite owns its
 * Postgres so stopping it disturbs no other suite. (Caches are dropped when the listener loses
 * its connection, so answers during the outage come from the store path: 503. Serving cached
 * users through an outage is the opt-in outage mode, tested in test/store-outage.e2e-spec.ts.)
 */
describe('fault: user store outage under load', () => {
  let pg: OwnPostgres;
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  const issuer = 'https://fault-outage.idp.test';
  const jitIssuer = 'https://fault-outage-jit.idp.test';

  beforeAll(async () => {
    pg = await OwnPostgres.start('fault-outage');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('fault-outage');
    const jwksUri = idp.publishJwks('outage', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl: pg.url,
      config: {
        database: { retryAttempts: 2, retryBackoffMs: 20, connectTimeoutMs: 300 },
        server: { requestTimeoutMs: 1_500 },
      },
      issuers: [
        { issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] },
        {
          issuer: jitIssuer,
          jwksUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          jit: { enabled: true },
        },
      ],
    });
    const db = sqlPool(pg.url);
    for (let i = 0; i < KNOWN_USERS; i++) await seedUser(db, issuer, { subject: `known-${i}` });
    await db.end();
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
    await idp?.stop();
  });

  it('answers only USER_STORE_UNAVAILABLE during the outage and fully recovers within 2 s', async () => {
    const now = Math.floor(Date.now() / 1000);
    const known = await Promise.all(
      Array.from({ length: KNOWN_USERS }, (_, i) =>
        keys.sign(claimsFor(issuer, AUD, now, { sub: `known-${i}` })),
      ),
    );
    // JIT subjects: brand new on every request, so each one needs the store to create a user.
    const jitToken = (w: number, n: number) =>
      keys.sign(claimsFor(jitIssuer, AUD, now, { sub: `jit-${w}-${n}` }));

    let running = true;
    const load = runLoad({
      workers: 12,
      maxRequests: 20_000,
      keepGoing: () => running,
      shot: async (w, n) => {
        if (w % 4 === 3) return httpAnswer(app.url, await jitToken(w, n));
        const token = known[(w * 7 + n) % KNOWN_USERS] as string;
        return w % 2 === 0
          ? httpAnswer(app.url, token)
          : grpcAnswer(await app.resolveGrpc({ token }));
      },
    });

    await sleep(500);
    const stopAt = Date.now();
    await pg.stop();
    const downAt = Date.now();
    await sleep(1_500);
    const restartAt = Date.now();
    await pg.restart();
    const backAt = Date.now();
    await sleep(2_800);
    running = false;
    const samples = await load;

    const during = samples.filter((s) => s.startedAt >= downAt && s.endedAt <= restartAt);
    const afterRecovery = samples.filter((s) => s.startedAt >= backAt + 2_000);
    const failed = samples.filter((s) => s.status !== 200);
    const firstOkAfterBack = samples
      .filter((s) => s.status === 200 && s.startedAt >= backAt)
      .reduce((min, s) => Math.min(min, s.endedAt), Number.POSITIVE_INFINITY);
    const count = (list: readonly Sample[], pred: (s: Sample) => boolean) =>
      list.filter(pred).length;
    console.log(
      `store outage under load: ${samples.length} requests; during outage ${during.length} ` +
        `(${count(during, (s) => s.reason === 'USER_STORE_UNAVAILABLE')} USER_STORE_UNAVAILABLE, ` +
        `${count(during, (s) => s.reason === 'USER_NOT_FOUND')} USER_NOT_FOUND, ` +
        `${count(during, (s) => s.status >= 500 && s.status !== 503)} 5xx other than 503, ` +
        `${count(during, (s) => s.error !== undefined)} unanswered); ` +
        `overall ${JSON.stringify(tally(samples))}; ` +
        `first success ${firstOkAfterBack - backAt} ms after the database returned ` +
        `(stop took ${downAt - stopAt} ms, restart ${backAt - restartAt} ms); ` +
        `${afterRecovery.length} requests from +2 s: ${count(afterRecovery, (s) => s.status === 200)} OK`,
    );

    // The outage was real and observed under load.
    expect(during.length).toBeGreaterThan(20);
    expect(count(during, (s) => s.status === 200)).toBe(0);
    // Every failed answer, at any time, was the truth: the store was unavailable.
    expect(tally(failed)).toEqual({ '503 USER_STORE_UNAVAILABLE': failed.length });
    expect(count(samples, (s) => s.reason === 'USER_NOT_FOUND')).toBe(0);
    // Full recovery within 2 s of the database returning.
    expect(firstOkAfterBack - backAt).toBeLessThan(2_000);
    expect(afterRecovery.length).toBeGreaterThan(20);
    expect(tally(afterRecovery)).toEqual({ '200': afterRecovery.length });

    // No crash, no internal error, and the JIT users created after recovery are not duplicated.
    expect((await app.http('/health/live')).status).toBe(200);
    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).not.toMatch(/^resolver_internal_errors_total\{[^}]*\} [1-9]/m);
    const db = sqlPool(pg.url);
    const { rows } = await db.query(
      `SELECT count(*)::int AS links, count(DISTINCT user_id)::int AS users FROM external_identities WHERE issuer = $1`,
      [jitIssuer],
    );
    await db.end();
    expect(rows[0].links).toBe(rows[0].users);
  });
});
