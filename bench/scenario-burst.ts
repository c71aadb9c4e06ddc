import { join } from 'node:path';
import { Client } from 'pg';
import { BURST_ROWS_SQL, serverLatencyMs } from './burst-client';
import { GENERATOR_BOUND_PCT, runNodeGenerator } from './generators';
import { JIT_ISS } from './issuers';
import { log, rssMb, treeCpuSeconds } from './processes';
import type { Row } from './report';
import type { Bench, Prep, Scenario } from './scenario';
import { type ResolverServer, startResolver } from './servers';

interface StoreRows {
  users: number;
  links: number;
  unlinked: number;
}

/** The warm-up burst (not measured): each replica's code paths compiled, its pool connected. */
const WARM = { prefix: 'burst-warm-', subjects: 20, perSubject: 2 };

const prefixOf = (round: number) => `burst-${round}-`;
const tokensOf = (p: Prep, prefix: string) => p.file(`${prefix}tokens.txt`);

/** The two replicas, started in `prime` (module state: one bench run per process). */
let replicas: ResolverServer[] = [];

/**
 * The burst of first logins (issue 24): two more replicas of the resolver as deployed
 * (start:prod's node flags, the default pool and request deadline: no `database` settings at
 * all) sharing the bench's Postgres. Each round, `--burst-subjects` new subjects of the JIT
 * issuer send `--burst-per-subject` requests each, all at once, each subject's split evenly over
 * both replicas (bench/load-burst.ts, on the load cores). Each round is its own row: answers by
 * status and reason, client-side p50/p99, and the users and links the store holds right after
 * the last answer and again a second later (a write continuing after its answer would show).
 */
export const burst: Scenario = {
  name: 'burst',
  baselines: () => [],
  servers: () => [],
  mint: (p) =>
    [
      WARM,
      ...Array.from({ length: p.o.rounds }, (_, i) => ({
        prefix: prefixOf(i + 1),
        subjects: p.o.burstSubjects,
      })),
    ].map(({ prefix, subjects }) => ({
      key: p.idp.es256,
      iss: JIT_ISS,
      subjects: Array.from({ length: subjects }, (_, i) => `${prefix}${i}`),
      file: tokensOf(p, prefix),
    })),
  async prime(b) {
    log(
      `burst: 2 replicas (default pool), ${b.o.burstSubjects} new subjects × ${b.o.burstPerSubject} requests at once, per round`,
    );
    replicas = await Promise.all(
      ['burst-a', 'burst-b'].map((name) => startResolver(b.ctx, name, {}, undefined, {})),
    );
    await fire(b, WARM.prefix, WARM.perSubject);
  },
  async round(b, round) {
    const prefix = prefixOf(round);
    const db = new Client({ connectionString: b.ctx.dbUrl });
    await db.connect();
    try {
      const count = async (since: Date) =>
        (await db.query<StoreRows>(BURST_ROWS_SQL, [JIT_ISS, prefix, since])).rows[0] as StoreRows;
      const since = (await db.query<{ now: Date }>('SELECT now()')).rows[0]?.now as Date;
      const cpuBefore = replicas.reduce((n, r) => n + treeCpuSeconds(r.child.pid), 0);
      const result = await fire(b, prefix, b.o.burstPerSubject);
      const cpu = replicas.reduce((n, r) => n + treeCpuSeconds(r.child.pid), 0) - cpuBefore;
      const after = await count(since);
      await new Promise((r) => setTimeout(r, 1_000));
      const later = await count(since);
      const server = serverLatencyMs(
        await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text())),
      );
      const { answers } = result;
      const unchanged = JSON.stringify(later) === JSON.stringify(after);
      const subjects = b.o.burstSubjects;
      const exact = after.users === subjects && after.links === subjects && after.unlinked === 0;
      log(
        `  burst round ${round}: ${JSON.stringify(answers)}; p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms ` +
          `(replicas' histograms, cumulative: p50 ${server.p50}, p99 ${server.p99}); ` +
          `${after.users} users / ${after.links} links (${after.unlinked} unlinked) after, ${later.users} / ${later.links} 1 s later`,
      );
      const push = (name: string, value: number) =>
        (b.run.perRound[name] ??= { values: [], bound: false }).values.push(value);
      push('burst: answered 200, %', (100 * (answers['200'] ?? 0)) / result.requests);
      push(
        'burst: subjects provisioned exactly once, %',
        exact && unchanged ? 100 : (100 * Math.min(after.users, after.links)) / subjects,
      );
      const scenario =
        `burst round ${round}: ${subjects} new subjects × ${b.o.burstPerSubject} at once, 2 replicas; ` +
        `${answers['200'] ?? 0} answered 200; ${after.users} users / ${after.links} links after` +
        (unchanged ? ', unchanged 1 s later' : `, ${later.users} / ${later.links} 1 s later`);
      const row: Row = {
        ...result,
        scenario,
        transport: 'http',
        generatorBound: result.generatorCpuPct >= GENERATOR_BOUND_PCT,
        tokensRepeated: true,
        rssMb: Math.max(...replicas.map((r) => rssMb(r.child.pid, 'VmRSS') ?? 0)),
        cpuUsPerRequest: result.requests ? (cpu * 1e6) / result.requests : undefined,
      };
      // Every round its own series (its answers and rows are in its name): no median of these.
      b.run.series[`${scenario}\u0000http`] = [row];
    } finally {
      await db.end();
    }
  },
};

/** One burst of the tokens minted for `prefix`, each sent `perSubject` times, at once. */
async function fire(b: Bench, prefix: string, perSubject: number) {
  const result = await runNodeGenerator(
    'burst (node)',
    join(b.ctx.dist, 'bench', 'load-burst.js'),
    {
      urls: replicas.map((r) => r.url).join(','),
      tokens: tokensOf(b, prefix),
      'per-subject': perSubject,
    },
    b.o.pinning?.load,
  );
  return result as typeof result & { answers: Readonly<Record<string, number>> };
}
