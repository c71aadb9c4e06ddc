import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchDatabase, createDatabase } from './database';
import { BenchIdp, ISS, JWKS_ISS } from './issuers';
import { DIST, parseOptions, ROOT, withoutHeapCap } from './options';
import { ensureGenerators, log, rssMb, stop } from './processes';
import { writeReport } from './report';
import { Runner } from './runner';
import { type Bench, cachedSubjects, countFresh, randomUsers, type ServerName } from './scenario';
import { ALL_SCENARIOS } from './scenarios';
import {
  type BenchServer,
  type ResolverServer,
  type ServerContext,
  startBaseline,
  startRecipe,
  startResolver,
} from './servers';
import { OtlpSink } from './otlp-sink';
import { buildTargets } from './targets';
import { type MintJob, mintAll, seed } from './tokens';

/**
 * `npm run bench`: sets up a database and the bench IdP, mints every token before any load,
 * starts the resolvers, the bare baselines and the usual recipe (all with start:prod's node
 * flags), floods the resolvers' caches with distinct tokens as production traffic would, runs
 * every scenario (bench/scenario-*.ts) in alternating rounds, and writes the report
 * (bench/report.ts) to docs/performance.md and the README's summary.
 */
async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const startedAt = Date.now();
  const present = o.generator === 'auto' ? ensureGenerators() : { wrk: false, h2load: false };
  if (!existsSync(join(DIST, 'apps/resolver/src/main.js')))
    throw new Error('run npm run build first (npm run bench does)');
  const machine = {
    cores: cpus().length,
    model: cpus()[0]?.model ?? '?',
    loadBefore: loadavg(),
    node: process.version,
  };
  const work = await mkdtemp(join(tmpdir(), 'resolver-bench-'));
  await chmod(work, 0o755); // the embedded Postgres runs as another user when we are root
  const file = (name: string) => join(work, name);
  const idp = new BenchIdp();
  const children: ChildProcess[] = [];
  let sink: OtlpSink | undefined;
  let db: BenchDatabase | undefined;
  const scenarios = ALL_SCENARIOS.filter((s) => o.scenarios.has(s.name));
  const servers = new Set<ServerName>(scenarios.flatMap((s) => s.servers(o)));
  try {
    db = await createDatabase(work, o.pinning);
    // Every user is linked to the JWKS issuer too: its RS256 tokens name random users.
    await seed(db.url, o.users, ISS, [JWKS_ISS], o.users);
    await idp.listen();
    const keysFile = file('keys.json');
    await writeFile(keysFile, JSON.stringify(idp.publicKeys()));

    // Tokens, minted before any load so minting costs nothing measured.
    const prep = { o, idp, file };
    const cachedResolver = servers.has('main') || servers.has('nocap');
    const jobs: MintJob[] = [
      // Every baseline is warmed with these too, whichever servers the scenarios start (a run of
      // `--scenarios store` alone failed for want of them).
      { key: idp.es256, iss: ISS, subjects: cachedSubjects(o.users), file: file('prime.txt') },
      ...(cachedResolver && o.flood > 0
        ? [
            {
              key: idp.es256,
              iss: ISS,
              subjects: randomUsers(o.flood, o.users),
              file: file('flood.txt'),
            },
          ]
        : []),
      ...scenarios.flatMap((s) => s.mint?.(prep) ?? []),
    ];
    log(`minting ${jobs.reduce((n, j) => n + j.subjects.length, 0).toLocaleString()} tokens`);
    await mintAll(jobs);

    // Servers: all alive at once so their runs alternate round by round.
    const ctx: ServerContext = {
      dist: DIST,
      work,
      dbUrl: db.url,
      jwksUrl: idp.url,
      staticKey: await idp.writeStaticKey(work),
      encryptionKey: await idp.writeEncryptionKey(work),
      pasetoPaserk: idp.pasetoPaserk(),
      keysFile,
      workers: o.workers,
      nodeOptions: o.nodeOptions,
      profileDir: o.profileDir,
      pinning: o.pinning,
      children,
    };
    log(`servers' node flags: ${o.nodeOptions || 'none'} (WORKERS=${o.workers})`);
    // --tracing: the resolver traced (--tracing-ratio of requests sampled), exporting to a sink.
    sink = o.tracing ? await new OtlpSink().start() : undefined;
    const traced = sink
      ? {
          tracing: {
            enabled: true,
            endpoint: sink.url,
            protocol: 'http/protobuf',
            sampleRatio: o.tracingRatio,
          },
        }
      : {};
    const main = servers.has('main')
      ? await startResolver(ctx, 'resolver', {}, undefined, undefined, traced)
      : undefined;
    const nocap = servers.has('nocap')
      ? await startResolver(ctx, 'nocap', {}, withoutHeapCap(o.nodeOptions))
      : undefined;
    // The "store" resolver: user and negative caches off, every request queries Postgres.
    const store = servers.has('store')
      ? await startResolver(ctx, 'store', { users: { maxEntries: 0 }, negative: { maxEntries: 0 } })
      : undefined;
    const recipe = servers.has('recipe') ? await startRecipe(ctx) : undefined;
    const run = new Runner(o, present, work, DIST);
    const bare: Record<string, BenchServer> = {};
    for (const kind of new Set(scenarios.flatMap((s) => s.baselines(o)))) {
      bare[kind] = await startBaseline(ctx, kind);
      // Warmed (JIT-compiled paths, pools connected) before any measured run: otherwise the
      // first round measures each baseline's warm-up.
      await (
        kind.startsWith('grpc')
          ? run.grpcTokens(bare[kind].address, file('prime.txt'), 'resolve', 2000)
          : run.httpCount(bare[kind].url, file('prime.txt'), 2000)
      )();
    }
    log(`baselines: ${Object.keys(bare).join(', ') || 'none'}`);
    const b: Bench = {
      ...prep,
      run,
      ctx,
      main,
      store,
      nocap,
      recipe,
      notes: {},
      bare: (kind) => {
        const server = bare[kind];
        if (!server) throw new Error(`baseline ${kind} was not started`);
        return server;
      },
    };

    for (const r of [main, nocap].filter((x): x is ResolverServer => x !== undefined)) {
      if (o.flood > 0) {
        log(`flood: ${o.flood.toLocaleString()} distinct cold tokens, random users`);
        const f = file('flood.txt');
        const row = await run.measure(
          `flood: ${o.flood.toLocaleString()} distinct tokens${r === nocap ? ', no heap cap' : ''}`,
          'http',
          r,
          run.httpCount(r.url, f, o.flood),
        );
        countFresh(b, r, row, f);
      }
      // The users the cold scenarios keep cached.
      await run.httpCount(r.url, file('prime.txt'), cachedSubjects(o.users).length)();
    }
    for (const s of scenarios) await s.prime?.(b);
    for (let round = 1; round <= o.rounds; round++) {
      log(`round ${round}/${o.rounds}`);
      for (const s of scenarios) await s.round?.(b, round);
    }
    for (const s of scenarios) await s.after?.(b);

    // Report: the median round of every series, the ratios, the targets.
    const rows = run.medianRows();
    // Peak RSS of the resolvers as started in production (the cap check's twin is not).
    const peakRss = Math.max(
      rssMb(main?.child.pid, 'VmHWM') ?? 0,
      rssMb(store?.child.pid, 'VmHWM') ?? 0,
    );
    const targets = buildTargets({
      perRound: run.perRound,
      rows,
      users: o.users,
      peakRssMb: peakRss,
      uniqueTokens: (main?.uniqueTokens ?? 0) + (store?.uniqueTokens ?? 0),
    });
    const middle = (xs: readonly number[]) =>
      xs.length ? ([...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)] as number) : NaN;
    const argv = process.argv.slice(2);
    const report = {
      at: new Date().toISOString(),
      wallSeconds: (Date.now() - startedAt) / 1000,
      command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      machine: { ...machine, loadAfter: loadavg() },
      settings: {
        users: o.users,
        duration: o.duration,
        rounds: o.rounds,
        connections: o.connections,
        sessions: o.sessions,
        streams: o.streams,
        workers: o.workers,
        flood: o.flood,
        warmIssuer: o.warmIssuer,
        nodeOptions: o.nodeOptions || 'none',
        pinning: o.pinning,
        generators: present,
        ...(sink
          ? {
              tracing: `on, sample ratio ${o.tracingRatio}: ${sink.exports} OTLP exports, ${sink.bytes} bytes`,
            }
          : {}),
        ...b.notes,
      },
      rows,
      targets: targets.map((t) => ({ ...t, met: undefined, median: middle(t.rounds) })),
    };
    if (o.profileDir) {
      await mkdir(o.profileDir, { recursive: true });
      await writeFile(join(o.profileDir, 'windows.json'), JSON.stringify(run.windows, null, 1));
    }
    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const json = join(resultsDir, `${report.at.replace(/[:.]/g, '-')}.json`);
    await writeFile(json, JSON.stringify(report, null, 2));
    const markdown = await writeReport(
      o.doc,
      o.doc ? join(ROOT, 'README.md') : undefined,
      report,
      targets,
    );
    process.stdout.write(`${markdown}\n`);
    log(`results written to ${json}${o.doc ? ` and ${o.doc}` : ''}`);
  } finally {
    idp.close();
    for (const c of children) await stop(c);
    await sink?.stop();
    await db?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
