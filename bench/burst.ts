import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { BURST_ROWS_SQL, serverLatencyMs } from './burst-client';
import { GENERATOR_BOUND_PCT, runNodeGenerator } from './generators';
import { log, rssMb, treeCpuSeconds } from './processes';
import type { Row } from './report';
import { JIT_ISS, type ServerContext, startResolver } from './servers';
import { mint } from './tokens';

/** One round of the burst: its run, and what the store held after it and a second later. */
export interface BurstRound {
  readonly row: Row;
  /** Share of the burst's requests answered 200. */
  readonly answered200Pct: number;
  /** 100 when every subject has exactly one user and one link, unchanged a second later. */
  readonly provisionedOncePct: number;
}

interface Rows {
  users: number;
  links: number;
  unlinked: number;
}

/**
 * The burst of first logins (issue 24): two replicas of the resolver as deployed (start:prod's
 * node flags, the default pool and request deadline) sharing the bench's Postgres; per round,
 * `subjects` new subjects of the JIT issuer send `perSubject` requests each, all at once, each
 * subject's split evenly over both replicas. Reports answers by status, client-side p50/p99,
 * and the users and links the store holds afterwards, and again a second later (a write after
 * the answers would show there).
 */
export async function runBurst(
  ctx: ServerContext,
  o: { subjects: number; perSubject: number; rounds: number; privateKey: KeyObject },
): Promise<BurstRound[]> {
  log(
    `burst: 2 replicas (default pool), ${o.subjects} new subjects × ${o.perSubject} requests, all at once, per round`,
  );
  // The default pool and deadline: nothing but what a deployment without tuning has.
  const replicas = await Promise.all(
    ['burst-a', 'burst-b'].map((name) => startResolver(ctx, name, {}, {})),
  );
  const urls = replicas.map((r) => r.url).join(',');
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const generate = async (prefix: string, subjects: number, perSubject: number) => {
    const tokens = join(ctx.work, `${prefix}tokens.txt`);
    await mint(
      o.privateKey,
      JIT_ISS,
      Array.from({ length: subjects }, (_, i) => `${prefix}${i}`),
      tokens,
    );
    return runNodeGenerator(
      'burst (node)',
      join(ctx.dist, 'bench', 'load-burst.js'),
      { urls, tokens, 'per-subject': perSubject },
      ctx.pinning?.load,
    );
  };
  const count = async (prefix: string, since: Date) =>
    (await db.query<Rows>(BURST_ROWS_SQL, [JIT_ISS, prefix, since])).rows[0] as Rows;
  try {
    // Warm-up, not measured: each replica's code paths compiled, its pool connected.
    await generate('burst-warm-', 20, 2);
    const rounds: BurstRound[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const prefix = `burst-${round}-`;
      const since = (await db.query<{ now: Date }>('SELECT now()')).rows[0]?.now as Date;
      const cpuBefore = replicas.reduce((n, r) => n + treeCpuSeconds(r.child.pid), 0);
      const result = await generate(prefix, o.subjects, o.perSubject);
      const cpu = replicas.reduce((n, r) => n + treeCpuSeconds(r.child.pid), 0) - cpuBefore;
      const after = await count(prefix, since);
      await new Promise((r) => setTimeout(r, 1_000));
      const later = await count(prefix, since);
      const answers = (result as unknown as { answers: Record<string, number> }).answers;
      const server = serverLatencyMs(
        await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text())),
      );
      const unchanged = JSON.stringify(later) === JSON.stringify(after);
      const exact =
        after.users === o.subjects && after.links === o.subjects && after.unlinked === 0;
      log(
        `  burst round ${round}: ${JSON.stringify(answers)}; p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms ` +
          `(server-side, cumulative: p50 ≤ ${server.p50} ms, p99 ≤ ${server.p99} ms); ` +
          `${after.users} users / ${after.links} links (${after.unlinked} unlinked) after, ${later.users} / ${later.links} 1 s later`,
      );
      rounds.push({
        answered200Pct: (100 * (answers['200'] ?? 0)) / result.requests,
        provisionedOncePct:
          exact && unchanged ? 100 : (100 * Math.min(after.users, after.links)) / o.subjects,
        row: {
          ...result,
          scenario: `burst round ${round}: ${o.subjects} new subjects × ${o.perSubject} at once, 2 replicas; ${answers['200'] ?? 0} answered 200; ${after.users} users / ${after.links} links after${unchanged ? ', unchanged 1 s later' : `, ${later.users} / ${later.links} 1 s later`}`,
          transport: 'http',
          generatorBound: result.generatorCpuPct >= GENERATOR_BOUND_PCT,
          tokensRepeated: true,
          rssMb: Math.max(...replicas.map((r) => rssMb(r.child.pid, 'VmRSS') ?? 0)),
          cpuUsPerRequest: result.requests ? (cpu * 1e6) / result.requests : undefined,
        },
      });
    }
    return rounds;
  } finally {
    await db.end();
  }
}
