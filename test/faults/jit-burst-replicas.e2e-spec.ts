import { BURST_ROWS_SQL, fireBurst, serverLatencyMs } from '../../bench/burst-client';
import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverProcess } from '../support/resolver-process';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { sleep } from './load';

const AUD = 'api://fault-burst';
const issuer = 'https://fault-burst.idp.test';
const SUBJECTS = 200;
const PER_SUBJECT = 10;

/**
 * The burst of first logins of issue 24, as production runs it: two replicas (the built app, each
 * its own process, started with start:prod's flags) sharing one Postgres, a JIT issuer whose keys
 * come from a real JWKS over HTTP, the default pool (deadlines widened, see below). 200 new subjects send
 * 10 requests each, all 2,000 at once, each subject's split 5/5 over the replicas: every request
 * is answered 200, exactly one user and one link exist per subject, and a second later still
 * exactly those (nothing was written after the answers).
 */
describe('fault: a burst of first logins over two replicas', () => {
  let databaseUrl: string;
  let idp: JwksServer;
  let keys: TokenFactory;
  const replicas: ResolverProcess[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('fault_burst');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('fault-burst');
    const config = {
      logging: { level: 'warn' },
      // The default pool (database.poolSize unset). The deadlines are widened: this suite runs
      // its client, both replicas and Postgres on a 2-core CI box that other suites (and, on a
      // developer's machine, other work) share, and a starved CPU is not what it tests. What it
      // tests holds at any deadline: every request answered 200, one user and one link per
      // subject, one store call per subject and replica, nothing written after the answers.
      // The default deadlines' latency is the bench's (`npm run bench -- --scenarios burst`
      // starts its replicas with no settings at all).
      server: { requestTimeoutMs: 30_000 },
      database: { connectTimeoutMs: 25_000 },
      issuers: [
        {
          issuer,
          jwksUri: idp.publishJwks('burst', keys.publicJwks()),
          audiences: [AUD],
          algorithms: ['ES256'],
          jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
        },
      ],
    };
    // Started together, as a rollout does: both migrate (one waits for the other's lock).
    replicas.push(
      ...(await Promise.all([
        ResolverProcess.start(databaseUrl, config),
        ResolverProcess.start(databaseUrl, config),
      ])),
    );
  }, 90_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await idp?.stop();
  });

  it('answers 2,000 first requests of 200 new subjects 200, with exactly 200 users and 200 links', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Replicas in service have their issuer's keys: one first login each fetches them.
    for (const [i, replica] of replicas.entries()) {
      const token = await keys.sign(
        claimsFor(issuer, AUD, now, { sub: `warm-${i}`, email: `warm-${i}@x.test` }),
        { key: keys.ec },
      );
      const res = await fetch(`${replica.url}/v1/resolve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    }
    const prefix = 'burst-';
    const tokens = await Promise.all(
      Array.from({ length: SUBJECTS }, (_, i) =>
        keys.sign(
          claimsFor(issuer, AUD, now, { sub: `${prefix}${i}`, email: `${prefix}${i}@x.test` }),
          { key: keys.ec },
        ),
      ),
    );
    const sql = sqlPool(databaseUrl);
    const since = (await sql.query<{ now: Date }>('SELECT now()')).rows[0]?.now;
    const burst = await fireBurst(
      replicas.map((r) => r.url),
      tokens,
      PER_SUBJECT,
    );
    console.log(
      `burst over 2 replicas: ${burst.requests} requests in ${burst.wallMs.toFixed(0)} ms: ` +
        `${JSON.stringify(burst.answers)}; p50 ${burst.p50Ms.toFixed(0)} ms, p99 ${burst.p99Ms.toFixed(0)} ms, max ${burst.maxMs.toFixed(0)} ms`,
    );
    try {
      const rows = async () =>
        (
          await sql.query<{ users: number; links: number; unlinked: number }>(BURST_ROWS_SQL, [
            issuer,
            prefix,
            since,
          ])
        ).rows[0];
      const answered = await rows();
      await sleep(1_000);
      const later = await rows();
      console.log(
        `rows after the burst: ${JSON.stringify(answered)}; 1 s later: ${JSON.stringify(later)}`,
      );
      expect(burst.answers).toEqual({ '200': SUBJECTS * PER_SUBJECT });
      expect(answered).toEqual({ users: SUBJECTS, links: SUBJECTS, unlinked: 0 });
      expect(later).toEqual(answered);
    } finally {
      await sql.end();
    }
    // Each subject (and each warm-up one) was provisioned once over both replicas: coalesced on
    // each replica, one winner between them.
    let created = 0;
    const texts = await Promise.all(
      replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()),
    );
    const server = serverLatencyMs(texts);
    console.log(`server-side (replicas' histograms): p50 ${server.p50}, p99 ${server.p99}`);
    for (const metrics of texts) {
      created += Number(
        /^resolver_jit_provisioning_total\{issuer="[^"]+",result="created"\} (\d+)$/m.exec(
          metrics,
        )?.[1],
      );
      expect(metrics).toMatch(/^resolver_jit_provisioning_total\{[^}]*result="error"\} 0$/m);
      expect(metrics).not.toMatch(/^resolver_internal_errors_total\{[^}]*\} [1-9]/m);
    }
    expect(created).toBe(SUBJECTS + replicas.length);
  });
});
