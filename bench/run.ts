import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect } from 'node:http2';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildConfig } from '@resolver/config';
import {
  dataSourceOptions,
  type EmbeddedDatabase,
  runMigrations,
  startEmbeddedDatabase,
} from '@resolver/identity';
import {
  GENERATOR_BOUND_PCT,
  type GeneratorResult,
  runH2load,
  runNodeGenerator,
  runWrk,
} from './generators';
import { GRPC_PATH, type GrpcMethodName, grpcFrame } from './grpc-frames';
import {
  ensureGenerators,
  freePort,
  log,
  machineTicks,
  type Pinning,
  rssMb,
  stop,
  treeCpuSeconds,
} from './processes';
import { runBurst } from './burst';
import { type Row, writeReport } from './report';
import { buildTargets, type PerRound } from './targets';
import {
  type BenchServer,
  ISS,
  JIT_ISS,
  JWKS_ISS,
  type ServerContext,
  startBaseline,
  startResolver,
} from './servers';
import { mint, seed } from './tokens';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const SCENARIOS = ['warm', 'cold', 'store', 'fullmiss', 'hang', 'jit', 'burst'] as const;

const middle = (xs: readonly number[]) =>
  xs.length ? ([...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number) : NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100000' },
      // Seconds per timed run. Every scenario alternates with its baseline over --rounds.
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      // gRPC: connections (HTTP/2 sessions); calls in flight = --connections over them all.
      'grpc-sessions': { type: 'string', default: '4' },
      workers: { type: 'string', default: '1' },
      // Fresh tokens per timed cold run (each used once; a run that needs more is flagged).
      // 50,000 covers 5 s at 10k req/s.
      'cold-tokens': { type: 'string', default: '50000' },
      'jit-requests': { type: 'string', default: '4000' },
      // The burst of first logins (bench/burst.ts): new subjects, and requests each, at once.
      'burst-subjects': { type: 'string', default: '200' },
      'burst-per-subject': { type: 'string', default: '10' },
      // Distinct users resolved at the end to fill the user cache (default: to its default
      // cap), so the RSS reported is that of full caches. 0 to skip.
      'fill-users': {
        type: 'string',
        default: String(
          buildConfig({}, {}, { source: 'defaults', baseDir: '/' }).cache.users.maxEntries,
        ),
      },
      // auto: wrk and h2load (installed when missing, as root on Debian), else the Node ones.
      generator: { type: 'string', default: 'auto' },
      pin: { type: 'boolean', default: true },
      'no-pin': { type: 'boolean', default: false },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      transports: { type: 'string', default: 'http,grpc' },
      // The resolver's node flags: by default the ones `npm run start:prod` starts it with.
      'node-options': { type: 'string', default: startProdNodeFlags() },
      // V8 CPU profiles of the resolver processes (bench/results/profiles).
      profile: { type: 'boolean', default: false },
      // The generated report; --no-doc for smoke runs (results still go to bench/results).
      doc: { type: 'string', default: join(ROOT, 'docs', 'performance.md') },
      'no-doc': { type: 'boolean', default: false },
    },
  });
  const startedAt = Date.now();
  const users = Number(values.users);
  const duration = Number(values.duration);
  const rounds = Math.max(1, Number(values.rounds));
  const connections = Number(values.connections);
  const sessions = Math.max(1, Number(values['grpc-sessions']));
  const streams = Math.max(1, Math.round(connections / sessions));
  const workers = Number(values.workers);
  const coldCount = Number(values['cold-tokens']);
  const jitCount = Number(values['jit-requests']);
  const fillCount = Math.min(users, Number(values['fill-users']));
  const scenarios = new Set(values.scenarios.split(',').map((s) => s.trim()));
  for (const s of scenarios)
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--scenarios: unknown ${s} (known: ${SCENARIOS.join(', ')})`);
  const transports = new Set(values.transports.split(',').map((s) => s.trim()));
  const useHttp = transports.has('http');
  const useGrpc = transports.has('grpc');
  const present = values.generator === 'auto' ? ensureGenerators() : { wrk: false, h2load: false };
  if (values.generator !== 'auto' && values.generator !== 'node')
    throw new Error(`--generator must be auto or node, not ${values.generator}`);
  const cores = cpus().length;
  const pinning: Pinning | undefined =
    values.pin && !values['no-pin'] && workers === 1 && cores >= 2 && existsSync('/usr/bin/taskset')
      ? { server: '0', load: `1-${cores - 1}` }
      : undefined;
  const load = pinning?.load;
  if (!existsSync(join(DIST, 'apps/resolver/src/main.js')))
    throw new Error('run npm run build first (npm run bench does)');
  const machine = {
    cores,
    model: cpus()[0]?.model ?? '?',
    loadBefore: loadavg(),
    node: process.version,
  };
  const work = await mkdtemp(join(tmpdir(), 'resolver-bench-'));
  await chmod(work, 0o755); // the embedded Postgres runs as another user when we are root
  const file = (name: string) => join(work, name);
  let embedded: EmbeddedDatabase | undefined;
  const children: ChildProcess[] = [];
  let jwksHung = false;
  /** JWKS requests the resolver sent while the IdP hung, per round (each held until its timeout). */
  const heldPerRound: number[] = [];
  const held: ServerResponse[] = [];
  const jwksServer = createHttpServer((_req, res) => {
    if (jwksHung) held.push(res);
    else res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody);
  });
  let jwksBody = '';
  try {
    // 1. Database: DATABASE_URL's server, or an embedded Postgres of our own.
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      log('starting embedded Postgres (set DATABASE_URL to use your own server)');
      embedded = await startEmbeddedDatabase(
        { dataDir: file('pg'), port: await freePort() },
        undefined,
        'postgres',
      );
      serverUrl = embedded.url;
      // Postgres runs beside the load generators, off the server's core, as a database server
      // on its own machine would: backends forked later inherit the postmaster's cores.
      const postmaster = Number(readFileSync(file('pg/pg/postmaster.pid'), 'utf8').split('\n')[0]);
      if (pinning && postmaster)
        execFileSync('taskset', ['-a', '-p', '-c', pinning.load, String(postmaster)], {
          stdio: 'ignore',
        });
    }
    const dbName = `bench_${Date.now()}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
    const ds = new DataSource(
      dataSourceOptions({
        url: dbUrl,
        poolSize: 2,
        connectTimeoutMs: 5000,
        statementTimeoutMs: 600_000,
        retryAttempts: 0,
        retryBackoffMs: 0,
        migrationsRun: true,
      }),
    );
    await ds.initialize();
    await runMigrations(ds);
    await ds.destroy();
    await seed(dbUrl, users, ISS, [JWKS_ISS], 1000);

    // 2. Keys and tokens (ES256), minted before any load so minting costs nothing measured.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(file('issuer.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
    jwksBody = JSON.stringify({
      keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' }],
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const jwksAddress = jwksServer.address();
    const jwksUrl = `http://127.0.0.1:${typeof jwksAddress === 'object' && jwksAddress ? jwksAddress.port : 0}/jwks`;
    const pick = (n: number, range = users) =>
      Array.from({ length: n }, () => `u${randomInt(1, range + 1)}`);
    const warmSubject = 'u1';
    const cachedSubjects = Array.from({ length: Math.min(1000, users) }, (_, i) => `u${i + 1}`);
    const fresh = (n: number) =>
      Array.from({ length: n }, (_, i) => cachedSubjects[i % cachedSubjects.length] as string);
    log('minting tokens');
    await mint(privateKey, ISS, [warmSubject], file('warm.txt'));
    const warmToken = readFileSync(file('warm.txt'), 'utf8').trim();
    await mint(privateKey, ISS, cachedSubjects, file('prime.txt'));
    await mint(privateKey, JWKS_ISS, cachedSubjects.slice(0, 10), file('prime-jwks.txt'));
    const slices: Record<string, string> = {};
    const slice = async (name: string, iss: string, subjects: string[]) => {
      slices[name] = file(`${name}.txt`);
      await mint(privateKey, iss, subjects, slices[name]);
    };
    for (let round = 1; round <= rounds; round++) {
      if (scenarios.has('cold')) {
        if (useHttp) await slice(`cold-http-${round}`, ISS, fresh(coldCount));
        if (useGrpc) await slice(`cold-grpc-${round}`, ISS, fresh(coldCount));
      }
      if (scenarios.has('hang') && useHttp) {
        await slice(`hang-up-${round}`, JWKS_ISS, fresh(coldCount));
        await slice(`hang-hung-${round}`, JWKS_ISS, fresh(coldCount));
      }
      if (scenarios.has('fullmiss') && useHttp)
        await slice(`fullmiss-${round}`, ISS, pick(coldCount, Math.min(users, 100_000)));
    }
    await mint(privateKey, ISS, pick(5000), file('store.txt'));
    await mint(privateKey, ISS, pick(5000, Math.min(1000, users)), file('store-1k.txt'));
    if (scenarios.has('jit'))
      await mint(
        privateKey,
        JIT_ISS,
        Array.from({ length: jitCount }, (_, i) => `jit-${i}`),
        file('jit.txt'),
      );
    if (scenarios.has('jit') && fillCount > 0)
      await mint(
        privateKey,
        ISS,
        Array.from({ length: fillCount }, (_, i) => `u${i + 1}`),
        file('fill.txt'),
      );
    const frames: Record<string, string> = {};
    for (const method of ['resolve', 'check'] as GrpcMethodName[]) {
      frames[method] = file(`frame-${method}.bin`);
      await writeFile(frames[method], grpcFrame(method, warmToken));
    }
    const tokenLines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).length;

    // 3. Generators. One run against one server process, with that process's CPU time and RSS.
    const rows: Row[] = [];
    let h2log = 0;
    type Gen = () => Promise<GeneratorResult>;
    const httpTimed = (url: string, tokens: string, method: 'GET' | 'POST', path: string): Gen =>
      present.wrk
        ? () =>
            runWrk({ url, method, path, tokensFile: tokens, duration, connections, cpuset: load })
        : () =>
            runNodeGenerator(
              'autocannon',
              join(DIST, 'bench', 'load-http.js'),
              { url, tokens, method, path, connections, duration },
              load,
            );
    const httpCount =
      (url: string, tokens: string, amount: number): Gen =>
      () =>
        runNodeGenerator(
          'autocannon',
          join(DIST, 'bench', 'load-http.js'),
          { url, tokens, connections: Math.min(connections, amount), amount },
          load,
        );
    /** One gRPC frame repeated: h2load, after one call shows that frame's answer is OK. */
    const grpcRepeated = (address: string, method: GrpcMethodName): Gen =>
      present.h2load
        ? async () => {
            await probeGrpc(address, method, readFileSync(frames[method] as string));
            return runH2load({
              address,
              path: GRPC_PATH[method],
              frameFile: frames[method] as string,
              duration,
              sessions,
              streams,
              logFile: file(`h2load-${h2log++}.log`),
              cpuset: load,
            });
          }
        : method === 'resolve'
          ? () =>
              runNodeGenerator(
                'grpc-js',
                join(DIST, 'bench', 'load-grpc.js'),
                { address, tokens: file('warm.txt'), connections, duration },
                load,
              )
          : grpcTokens(address, file('warm.txt'), method);
    /** A token per call: our node:http2 generator (h2load repeats one body). */
    function grpcTokens(
      address: string,
      tokens: string,
      method: GrpcMethodName,
      amount?: number,
    ): Gen {
      return () =>
        runNodeGenerator(
          'node:http2',
          join(DIST, 'bench', 'load-h2.js'),
          {
            address,
            tokens,
            method,
            connections: sessions,
            streams,
            ...(amount ? { amount } : { duration }),
          },
          load,
        );
    }
    /** The resolvers' /metrics, for their V8 heap beside the RSS. */
    const metricsUrls = new Map<ChildProcess, string>();
    const measure = async (
      scenario: string,
      transport: Row['transport'],
      server: ChildProcess,
      run: Gen,
      tokens?: string,
    ): Promise<Row> => {
      const before = treeCpuSeconds(server.pid);
      const ticksBefore = machineTicks();
      const r = await run();
      const cpu = treeCpuSeconds(server.pid) - before;
      const ticksAfter = machineTicks();
      const ticks = ticksAfter.total - ticksBefore.total;
      const row: Row = {
        ...r,
        scenario,
        transport,
        generatorBound: r.generatorCpuPct >= GENERATOR_BOUND_PCT,
        // Only a resolver caches verified tokens: a baseline verifies a repeated token again.
        tokensRepeated: tokens && metricsUrls.has(server) ? r.requests > tokenLines(tokens) : false,
        rssMb: rssMb(server.pid, 'VmRSS'),
        ...(await v8Heap(metricsUrls.get(server))),
        cpuUsPerRequest: r.requests ? (cpu * 1e6) / r.requests : undefined,
        stealPct: ticks > 0 ? (100 * (ticksAfter.steal - ticksBefore.steal)) / ticks : undefined,
      };
      log(
        `  ${scenario} ${transport}: ${row.rps.toFixed(0)} req/s, p99 ${row.p99Ms.toFixed(1)} ms, ` +
          `${row.cpuUsPerRequest?.toFixed(0)} µs/req, ${r.generator} at ${r.generatorCpuPct.toFixed(0)}% of its core` +
          (row.errors ? `, ${row.errors} errors` : ''),
      );
      return row;
    };

    // 4. Servers: the bare baselines and the resolver as deployed (built service, WORKERS
    //    processes, its own config), all alive at once so their runs alternate round by round.
    const ctx: ServerContext = {
      dist: DIST,
      work,
      dbUrl,
      jwksUrl,
      workers,
      nodeOptions: values['node-options'],
      profileDir: values.profile ? join(ROOT, 'bench', 'results', 'profiles') : undefined,
      pinning,
      children,
    };

    /** Ratios of one scenario over its baseline, per round. */
    const perRound: PerRound = {};
    const ratio = (name: string, a: Row | undefined, b: Row | undefined, key: 'rps' | 'p99Ms') => {
      if (!a || !b) return;
      const entry = (perRound[name] ??= { values: [], bound: false });
      entry.values.push(b[key] ? a[key] / b[key] : NaN);
      entry.bound ||= a.generatorBound || b.generatorBound;
    };
    const series: Record<string, Row[]> = {};
    const add = (row: Row | undefined) => {
      if (row) (series[`${row.scenario}\u0000${row.transport}`] ??= []).push(row);
      return row;
    };
    const when = async (cond: boolean, run: () => Promise<Row>) =>
      cond ? add(await run()) : undefined;

    const needsMain = ['warm', 'cold', 'hang', 'jit'].some((s) => scenarios.has(s));
    const needsStore = scenarios.has('store') || scenarios.has('fullmiss');
    log(
      `resolver (caches on, default caps, WORKERS=${workers}, node flags: ${values['node-options'] || 'none'})`,
    );
    const main = needsMain ? await startResolver(ctx, 'resolver', {}) : undefined;
    log('resolver "store" (user and negative caches off: every request queries Postgres)');
    const store = needsStore
      ? await startResolver(ctx, 'store', { users: { maxEntries: 0 }, negative: { maxEntries: 0 } })
      : undefined;
    for (const r of [main, store]) if (r) metricsUrls.set(r.child, `${r.url}/metrics`);
    const kinds = new Set<string>();
    if (scenarios.has('warm')) {
      if (useHttp) kinds.add('fastify');
      if (useGrpc) kinds.add('grpc');
    }
    if (scenarios.has('cold')) {
      if (useHttp) kinds.add('fastify-jose');
      if (useGrpc) kinds.add('grpc-jose');
    }
    if (scenarios.has('store')) {
      if (useHttp) kinds.add('fastify-pg');
      if (useGrpc) kinds.add('grpc-pg');
    }
    if (scenarios.has('fullmiss') && useHttp) kinds.add('fastify-jose-pg');
    log(`baselines: ${[...kinds].join(', ')}`);
    const bare: Record<string, BenchServer> = {};
    for (const kind of kinds) bare[kind] = await startBaseline(ctx, kind);
    // Warmed like the resolvers below (JIT-compiled paths, pools connected) before any
    // measured run: otherwise the first round measures each baseline's warm-up.
    for (const [kind, server] of Object.entries(bare))
      await (
        kind.startsWith('grpc')
          ? grpcTokens(server.address, file('prime.txt'), 'resolve', 2000)
          : httpCount(server.url, file('prime.txt'), 2000)
      )();

    // Prime: the cached users' tokens, and the JWKS issuer's keys.
    if (main) {
      await httpCount(main.url, file('prime.txt'), cachedSubjects.length)();
      await httpCount(main.url, file('prime-jwks.txt'), 10)();
      await httpCount(main.url, file('warm.txt'), 500)();
    }
    if (store) {
      await httpCount(store.url, file('store.txt'), 5000)();
      await httpCount(store.url, file('store-1k.txt'), 5000)();
    }
    const b = (kind: string) => bare[kind] as BenchServer;
    const used = (server: { uniqueTokens: number }, row: Row | undefined, tokens: string) => {
      if (row) server.uniqueTokens += Math.min(row.requests, tokenLines(tokens));
    };

    for (let round = 1; round <= rounds; round++) {
      log(`round ${round}/${rounds}`);
      if (main && scenarios.has('warm')) {
        const w = file('warm.txt');
        const f = await when(useHttp, () =>
          measure(
            'bare Fastify',
            'http',
            b('fastify').child,
            httpTimed(b('fastify').url, w, 'POST', '/v1/resolve'),
          ),
        );
        const r = await when(useHttp, () =>
          measure(
            'warm /v1/resolve',
            'http',
            main.child,
            httpTimed(main.url, w, 'POST', '/v1/resolve'),
          ),
        );
        const fa = await when(useHttp, () =>
          measure(
            'bare Fastify GET /v1/authz',
            'http',
            b('fastify').child,
            httpTimed(b('fastify').url, w, 'GET', '/v1/authz'),
          ),
        );
        const ra = await when(useHttp, () =>
          measure('warm /v1/authz', 'http', main.child, httpTimed(main.url, w, 'GET', '/v1/authz')),
        );
        const g = await when(useGrpc, () =>
          measure(
            'bare grpc-js',
            'grpc',
            b('grpc').child,
            grpcRepeated(b('grpc').address, 'resolve'),
          ),
        );
        const rg = await when(useGrpc, () =>
          measure('warm ResolveSubject', 'grpc', main.child, grpcRepeated(main.address, 'resolve')),
        );
        const rc = await when(useGrpc, () =>
          measure('warm Check', 'grpc', main.child, grpcRepeated(main.address, 'check')),
        );
        ratio('warm /v1/resolve / bare Fastify', r, f, 'rps');
        ratio('warm /v1/authz / bare Fastify', ra, fa, 'rps');
        ratio('warm ResolveSubject / bare grpc-js', rg, g, 'rps');
        ratio('warm Check / bare grpc-js', rc, g, 'rps');
      }
      if (main && scenarios.has('cold')) {
        const th = slices[`cold-http-${round}`];
        const tg = slices[`cold-grpc-${round}`];
        const f = await when(useHttp, () =>
          measure(
            'bare Fastify + jose',
            'http',
            b('fastify-jose').child,
            httpTimed(b('fastify-jose').url, th as string, 'POST', '/v1/resolve'),
            th,
          ),
        );
        const r = await when(useHttp, () =>
          measure(
            'cold token',
            'http',
            main.child,
            httpTimed(main.url, th as string, 'POST', '/v1/resolve'),
            th,
          ),
        );
        used(main, r, th as string);
        const g = await when(useGrpc, () =>
          measure(
            'bare grpc-js + jose',
            'grpc',
            b('grpc-jose').child,
            grpcTokens(b('grpc-jose').address, tg as string, 'resolve'),
            tg,
          ),
        );
        const rg = await when(useGrpc, () =>
          measure(
            'cold token',
            'grpc',
            main.child,
            grpcTokens(main.address, tg as string, 'resolve'),
            tg,
          ),
        );
        used(main, rg, tg as string);
        ratio('cold HTTP / bare Fastify + jose', r, f, 'rps');
        ratio('cold gRPC / bare grpc-js + jose', rg, g, 'rps');
      }
      if (main && scenarios.has('hang') && useHttp) {
        jwksHung = false;
        const up = slices[`hang-up-${round}`] as string;
        const hung = slices[`hang-hung-${round}`] as string;
        const u = add(
          await measure(
            'IdP up: cold token, JWKS issuer',
            'http',
            main.child,
            httpTimed(main.url, up, 'POST', '/v1/resolve'),
            up,
          ),
        );
        used(main, u, up);
        jwksHung = true;
        const heldBefore = held.length;
        const h = add(
          await measure(
            'IdP hang: cold token, JWKS issuer',
            'http',
            main.child,
            httpTimed(main.url, hung, 'POST', '/v1/resolve'),
            hung,
          ),
        );
        used(main, h, hung);
        jwksHung = false;
        heldPerRound.push(held.length - heldBefore);
        log(`  the resolver asked the hung JWKS ${held.length - heldBefore} times during that run`);
        for (const res of held.splice(0)) res.destroy();
        ratio('IdP hang: cold-token p99, JWKS hung / up', h, u, 'p99Ms');
      }
      if (store && scenarios.has('store')) {
        const s = file('store.txt');
        const f = await when(useHttp, () =>
          measure(
            'bare Fastify + pg',
            'http',
            b('fastify-pg').child,
            httpTimed(b('fastify-pg').url, s, 'POST', '/v1/resolve'),
          ),
        );
        const r = await when(useHttp, () =>
          measure('store', 'http', store.child, httpTimed(store.url, s, 'POST', '/v1/resolve')),
        );
        const small = await when(useHttp, () =>
          measure(
            'store, 1k-user working set',
            'http',
            store.child,
            httpTimed(store.url, file('store-1k.txt'), 'POST', '/v1/resolve'),
          ),
        );
        const g = await when(useGrpc, () =>
          measure(
            'bare grpc-js + pg',
            'grpc',
            b('grpc-pg').child,
            grpcTokens(b('grpc-pg').address, s, 'resolve'),
          ),
        );
        const rg = await when(useGrpc, () =>
          measure('store', 'grpc', store.child, grpcTokens(store.address, s, 'resolve')),
        );
        ratio('store HTTP / bare Fastify + pg', r, f, 'rps');
        ratio('store gRPC / bare grpc-js + pg', rg, g, 'rps');
        ratio(`store: ${users.toLocaleString()} users / 1k working set`, r, small, 'rps');
      }
      if (store && scenarios.has('fullmiss') && useHttp) {
        const t = slices[`fullmiss-${round}`] as string;
        const f = add(
          await measure(
            'bare Fastify + jose + pg',
            'http',
            b('fastify-jose-pg').child,
            httpTimed(b('fastify-jose-pg').url, t, 'POST', '/v1/resolve'),
            t,
          ),
        );
        const r = add(
          await measure(
            'full miss',
            'http',
            store.child,
            httpTimed(store.url, t, 'POST', '/v1/resolve'),
            t,
          ),
        );
        used(store, r, t);
        ratio('full miss HTTP / bare Fastify + jose + pg', r, f, 'rps');
      }
    }

    // Open loop at half the store peak, alternating with the bare store handler at that rate.
    if (store && scenarios.has('store') && useHttp) {
      const peak = middle((series[`store\u0000http`] ?? []).map((r) => r.rps));
      const rate = Math.max(1, Math.floor(peak / 2));
      log(`store at half its peak: ${rate} req/s, open loop, alternating with bare Fastify + pg`);
      const paced =
        (url: string): Gen =>
        () =>
          runNodeGenerator(
            'open loop (node)',
            join(DIST, 'bench', 'load-paced.js'),
            { url, tokens: file('store.txt'), rate, duration, connections: 64 },
            load,
          );
      for (let round = 1; round <= rounds; round++) {
        const r = add(
          await measure('store @ half peak (open loop)', 'http', store.child, paced(store.url)),
        );
        const f = add(
          await measure(
            'bare Fastify + pg @ same rate (open loop)',
            'http',
            b('fastify-pg').child,
            paced(b('fastify-pg').url),
          ),
        );
        ratio('store @ half peak: p99 / bare Fastify + pg p99', r, f, 'p99Ms');
      }
    }
    if (main && scenarios.has('jit')) {
      log('jit (every request a new subject, provisioned)');
      const half = Math.floor(jitCount / 2);
      const jitLines = readFileSync(file('jit.txt'), 'utf8').split('\n');
      await writeFile(file('jit-a.txt'), jitLines.slice(0, half).join('\n'));
      await writeFile(file('jit-b.txt'), jitLines.slice(half).join('\n'));
      await when(useHttp, () =>
        measure('jit', 'http', main.child, httpCount(main.url, file('jit-a.txt'), half)),
      );
      await when(useGrpc, () =>
        measure(
          'jit',
          'grpc',
          main.child,
          grpcTokens(main.address, file('jit-b.txt'), 'resolve', jitCount - half),
        ),
      );
      if (fillCount > 0) {
        log(`filling the caches: ${fillCount.toLocaleString()} distinct users`);
        const fill = await when(true, () =>
          measure(
            `fill: ${fillCount.toLocaleString()} distinct users`,
            'http',
            main.child,
            httpCount(main.url, file('fill.txt'), fillCount),
          ),
        );
        used(main, fill, file('fill.txt'));
      }
    }

    const bursts = scenarios.has('burst')
      ? await runBurst(ctx, {
          subjects: Number(values['burst-subjects']),
          perSubject: Number(values['burst-per-subject']),
          rounds,
          privateKey,
        })
      : [];
    for (const b of bursts) {
      (perRound['burst: answered 200, %'] ??= { values: [], bound: false }).values.push(
        b.answered200Pct,
      );
      (perRound['burst: subjects provisioned exactly once, %'] ??= {
        values: [],
        bound: false,
      }).values.push(b.provisionedOncePct);
    }

    // 5. Report: the median round of every series, the ratios, the targets.
    const medianRow = (rs: readonly Row[], key: 'rps' | 'p99Ms') => {
      const sorted = [...rs].sort((x, y) => x[key] - y[key]);
      return {
        ...(sorted[Math.floor((sorted.length - 1) / 2)] as Row),
        roundsRps: rs.map((r) => r.rps),
        generatorBound: rs.some((r) => r.generatorBound),
        errors: rs.reduce((n, r) => n + r.errors, 0),
      };
    };
    for (const [key, rs] of Object.entries(series))
      rows.push(
        medianRow(rs, key.includes('open loop') || key.startsWith('IdP') ? 'p99Ms' : 'rps'),
      );
    // Every burst round is its own row: its answers and rows are in its name.
    rows.push(...bursts.map((b) => b.row));
    const peakRss = Math.max(
      rssMb(main?.child.pid, 'VmHWM') ?? 0,
      rssMb(store?.child.pid, 'VmHWM') ?? 0,
    );
    const targets = buildTargets({
      perRound,
      rows,
      users,
      peakRssMb: peakRss,
      uniqueTokens: (main?.uniqueTokens ?? 0) + (store?.uniqueTokens ?? 0),
    });
    const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const report = {
      at: new Date().toISOString(),
      wallSeconds: (Date.now() - startedAt) / 1000,
      command,
      machine: { ...machine, loadAfter: loadavg() },
      settings: {
        users,
        duration,
        rounds,
        connections,
        sessions,
        streams,
        workers,
        nodeOptions: values['node-options'] || 'none',
        pinning,
        generators: present,
        jwksRequestsDuringHang: heldPerRound,
      },
      rows,
      targets: targets.map((t) => ({ ...t, met: undefined, median: middle(t.rounds) })),
    };
    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const json = join(resultsDir, `${report.at.replace(/[:.]/g, '-')}.json`);
    await writeFile(json, JSON.stringify(report, null, 2));
    const markdown = await writeReport(
      values['no-doc'] ? undefined : values.doc,
      values['no-doc'] ? undefined : join(ROOT, 'README.md'),
      report,
      targets,
    );
    process.stdout.write(`${markdown}\n`);
    log(`results written to ${json}${values['no-doc'] ? '' : ` and ${values.doc}`}`);
  } finally {
    for (const res of held.splice(0)) res.destroy();
    jwksServer.close();
    for (const c of children) await stop(c);
    await embedded?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** A resolver's V8 heap (MB, summed over workers) from its own metrics; nothing for a baseline. */
async function v8Heap(
  metricsUrl: string | undefined,
): Promise<{ heapUsedMb?: number; heapTotalMb?: number }> {
  if (!metricsUrl) return {};
  try {
    const text = await (await fetch(metricsUrl)).text();
    const mb = (name: string) => {
      const v = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
      return v ? Number(v) / 2 ** 20 : undefined;
    };
    return {
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    };
  } catch {
    return {};
  }
}

/** One call with `method`'s frame over plain HTTP/2: throws unless grpc-status is 0. */
function probeGrpc(address: string, method: GrpcMethodName, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.once('error', reject);
    let status: string | undefined;
    const req = session.request({
      ':method': 'POST',
      ':path': GRPC_PATH[method],
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('response', (h: Record<string, string | string[] | undefined>) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    req.on('trailers', (t: Record<string, string | string[] | undefined>) => {
      status = String(t['grpc-status']);
    });
    req.on('data', () => undefined);
    req.once('close', () => {
      session.close();
      if (status === '0') resolve();
      else reject(new Error(`${GRPC_PATH[method]} at ${address}: grpc-status ${status}`));
    });
    req.end(frame);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/**
 * The node flags of package.json's `start:prod` (what `node … dist/…/main.js` is given there),
 * so the bench measures the service as it is started, not a variant of it.
 */
function startProdNodeFlags(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const m = /^node\s+(.*?)\s*dist\//.exec(pkg.scripts['start:prod'] ?? '');
  return m?.[1] ?? '';
}
