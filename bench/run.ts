import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportSPKI, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { stringify } from 'yaml';
import { buildConfig } from '@resolver/config';
import {
  dataSourceOptions,
  type EmbeddedDatabase,
  runMigrations,
  startEmbeddedDatabase,
} from '@resolver/identity';
import type { RunResult } from './stats';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const ISS = 'https://bench.idp.local';
const JIT_ISS = 'https://bench-jit.idp.local';
const AUD = 'bench';

interface Row extends RunResult {
  scenario: string;
  transport: 'http' | 'grpc' | 'cpu';
  rssMb?: number;
  /** CPU time (user + system) the server process(es) spent per request answered. */
  cpuUsPerRequest?: number;
  /** V8 heap in use after the run (the resolver's own metric; summed over workers). */
  heapUsedMb?: number;
  /** Share of the machine's CPU time the hypervisor took (steal) during the run, percent. */
  stealPct?: number;
  /** Every round's req/s, when the row is the median of several. */
  roundsRps?: number[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Which cores the servers and the load generators run on; undefined: not pinned. */
let pinning: { server: string; load: string } | undefined;

/** The command line for `node args`, under `taskset -c cpuset` when pinning. */
function pinned(args: string[], cpuset?: string): [string, string[]] {
  return pinning && cpuset
    ? ['taskset', ['-c', cpuset, process.execPath, ...args]]
    : [process.execPath, args];
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) used so far by a process and its children (cluster workers). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  let ticks = 0;
  for (const p of [pid, ...childPids(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / CLK_TCK;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
): Promise<ChildProcess> {
  const [cmd, cmdArgs] = pinned(args, pinning?.server);
  const child = spawn(cmd, cmdArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await ready().catch(() => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`process did not become ready:\n${output}`);
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  // A baseline has no SIGTERM handler: it ends with a signal code, not an exit code.
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Resident set size (MB) of a process and its children (cluster workers), the largest one. */
/** The machine's CPU ticks, all cores together: total, and stolen by the hypervisor. */
function machineTicks(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1);
    const n = (fields ?? []).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    return { total: n.slice(0, 8).reduce((a, b) => a + b, 0), steal: n[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

function maxRssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  const read = (p: number) => {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  return Math.max(read(pid), ...childPids(pid).map(read));
}

async function heapUsedMb(metricsUrl: string | undefined): Promise<number | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const text = await (await fetch(metricsUrl)).text();
    const bytes = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
    return bytes ? Number(bytes) / 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done.toLocaleString()}/${total.toLocaleString()}`;
}

async function seed(url: string, users: number): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const chunk = 50_000;
  const started = Date.now();
  for (let from = 1; from <= users; from += chunk) {
    const to = Math.min(users, from + chunk - 1);
    await client.query(
      `WITH u AS (
         INSERT INTO users (tenant, email, username, provenance)
         SELECT '', 'u' || g || '@bench.local', 'u' || g, 'import' FROM generate_series($1::int, $2::int) g
         RETURNING id, username)
       INSERT INTO external_identities (issuer, tenant, subject, user_id) SELECT $3, '', username, id FROM u`,
      [from, to, ISS],
    );
    if (process.stderr.isTTY) process.stderr.write(`\rseeding users ${bar(to, users)}`);
    else if (to === users || (to / chunk) % 5 === 0) log(`seeding users ${bar(to, users)}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  // Vacuumed and checkpointed now, so autovacuum and a checkpoint do not run during the load
  // (the database shares its core with the load generators).
  await client.query('VACUUM ANALYZE users');
  await client.query('VACUUM ANALYZE external_identities');
  await client.query('CHECKPOINT');
  await client.end();
  log(`seeded ${users.toLocaleString()} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function mint(
  key: KeyLike,
  iss: string,
  subjects: string[],
  file: string,
): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (const sub of subjects) {
    tokens.push(
      await new SignJWT({ sub, email: `${sub}@bench.local` })
        .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
        .setIssuer(iss)
        .setAudience(AUD)
        .setIssuedAt(now - 5)
        .setExpirationTime(now + 3600)
        .setJti(`${sub}-${tokens.length}`)
        .sign(key),
    );
  }
  await writeFile(file, tokens.join('\n'));
  return tokens;
}

/** Runs a bench child (a load generator or the jose loop) and parses its one JSON line. */
function runChild(
  script: string,
  args: Record<string, string | number>,
  cpuset?: string,
): Promise<RunResult> {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const [cmd, cmdArgs] = pinned([join(DIST, 'bench', script), ...argv], cpuset);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim()) as RunResult)
        : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

/** The round with the median of `key` (the row printed). */
function medianBy(rounds: readonly Row[], key: 'rps' | 'p99Ms'): Row {
  const sorted = [...rounds].sort((a, b) => a[key] - b[key]);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Row;
}

/** Median of the rounds, by req/s (the row printed), and every round's req/s beside it. */
function median(rounds: readonly Row[]): Row {
  return { ...medianBy(rounds, 'rps'), roundsRps: rounds.map((r) => r.rps) };
}

const middle = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '8' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '1' },
      'cold-tokens': { type: 'string', default: '40000' },
      'jit-requests': { type: 'string', default: '5000' },
      // Distinct users resolved at the end to fill the user cache (default: to its default
      // cap), so the RSS reported is that of full caches. 0 to skip.
      'fill-users': {
        type: 'string',
        default: String(
          buildConfig({}, {}, { source: 'defaults', baseDir: '/' }).cache.users.maxEntries,
        ),
      },
      // Warm runs and their baselines alternate, round after round; the median is reported.
      rounds: { type: 'string', default: '3' },
      // auto: wrk when installed, else autocannon.
      generator: { type: 'string', default: 'auto' },
      // Server on core 0, load generators on the others (WORKERS=1 on 2+ cores), for every
      // server alike, so the generator never takes the server's core. --no-pin to turn off.
      pin: { type: 'boolean', default: true },
      'no-pin': { type: 'boolean', default: false },
      scenarios: { type: 'string', default: 'warm,cold,jit,store' },
      // Node flags for the resolver processes; the default is the Docker image's heap cap.
      'node-options': { type: 'string', default: '--max-old-space-size=192' },
      // e.g. --transports http with --profile: a profile of the HTTP path alone.
      transports: { type: 'string', default: 'http,grpc' },
      // Writes V8 CPU profiles of the resolver processes (open in Chrome DevTools / speedscope).
      profile: { type: 'boolean', default: false },
    },
  });
  const users = Number(values.users);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const workers = Number(values.workers);
  const coldCount = Number(values['cold-tokens']);
  const jitCount = Number(values['jit-requests']);
  const fillCount = Math.min(users, Number(values['fill-users']));
  const rounds = Math.max(1, Number(values.rounds));
  const scenarios = new Set(values.scenarios.split(',').map((s) => s.trim()));
  const transports = new Set(values.transports.split(',').map((s) => s.trim()));
  /** Runs a load for one transport only when that transport was asked for. */
  const only = async <T>(transport: string, run: () => Promise<T>): Promise<T[]> =>
    transports.has(transport) ? [await run()] : [];
  const generator =
    values.generator === 'auto' ? (hasCommand('wrk') ? 'wrk' : 'autocannon') : values.generator;
  if (generator !== 'wrk' && generator !== 'autocannon')
    throw new Error(`--generator must be auto, wrk or autocannon, not ${values.generator}`);
  const cores = cpus().length;
  pinning =
    values.pin && !values['no-pin'] && workers === 1 && cores >= 2 && hasCommand('taskset')
      ? { server: '0', load: `1-${cores - 1}` }
      : undefined;
  if (!existsSync(join(DIST, 'apps/resolver/src/main.js')))
    throw new Error('run npm run build first (npm run bench does)');
  const work = await mkdtemp(join(tmpdir(), 'resolver-bench-'));
  // As root, the embedded Postgres runs as another user, which must be able to traverse this.
  await chmod(work, 0o755);
  let embedded: EmbeddedDatabase | undefined;
  const children: ChildProcess[] = [];
  try {
    // 1. Database: DATABASE_URL's server, or an embedded Postgres of our own.
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      log('starting embedded Postgres (set DATABASE_URL to use your own server)');
      embedded = await startEmbeddedDatabase(
        { dataDir: join(work, 'pg'), port: await freePort() },
        undefined,
        'postgres',
      );
      serverUrl = embedded.url;
      // Our Postgres runs beside the load generators, off the server's core, as a database
      // server on its own machine would: backends forked later inherit the postmaster's cores.
      const postmaster = Number(
        readFileSync(join(work, 'pg', 'pg', 'postmaster.pid'), 'utf8').split('\n')[0],
      );
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
    await seed(dbUrl, users);

    // 2. Keys and tokens (ES256), minted before any load so minting costs nothing measured.
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await writeFile(join(work, 'issuer.pem'), await exportSPKI(publicKey));
    const pick = (n: number, range = users) =>
      Array.from({ length: n }, () => `u${randomInt(1, range + 1)}`);
    log('minting tokens');
    const warmSubjects = pick(1000);
    await mint(privateKey, ISS, warmSubjects, join(work, 'warm.txt'));
    // Cold tokens: never seen before (verified every time) but for the warm users (cached).
    const cold = await mint(
      privateKey,
      ISS,
      Array.from({ length: coldCount }, (_, i) => warmSubjects[i % warmSubjects.length] as string),
      join(work, 'cold.txt'),
    );
    await writeFile(join(work, 'cold-a.txt'), cold.slice(0, Math.floor(coldCount / 2)).join('\n'));
    await writeFile(join(work, 'cold-b.txt'), cold.slice(Math.floor(coldCount / 2)).join('\n'));
    await mint(privateKey, ISS, pick(5000), join(work, 'store.txt'));
    await mint(privateKey, ISS, pick(5000, Math.min(1000, users)), join(work, 'store-1k.txt'));
    const jit = await mint(
      privateKey,
      JIT_ISS,
      Array.from({ length: jitCount }, (_, i) => `jit-${i}`),
      join(work, 'jit.txt'),
    );
    if (fillCount > 0 && scenarios.has('jit'))
      await mint(
        privateKey,
        ISS,
        Array.from({ length: fillCount }, (_, i) => `u${i + 1}`),
        join(work, 'fill.txt'),
      );
    await writeFile(join(work, 'jit-a.txt'), jit.slice(0, Math.floor(jitCount / 2)).join('\n'));
    await writeFile(join(work, 'jit-b.txt'), jit.slice(Math.floor(jitCount / 2)).join('\n'));

    const rows: Row[] = [];
    const load = pinning?.load;
    /** The resolvers' /metrics, for the V8 heap beside the RSS. */
    const metricsUrls = new Map<ChildProcess, string>();
    /** One load run against a server process, with that process's CPU time and RSS. */
    const measure = async (
      scenario: string,
      transport: Row['transport'],
      server: ChildProcess,
      run: () => Promise<RunResult>,
    ): Promise<Row> => {
      const before = cpuSeconds(server.pid);
      const ticksBefore = machineTicks();
      const r = await run();
      const cpu = cpuSeconds(server.pid) - before;
      const ticksAfter = machineTicks();
      const ticks = ticksAfter.total - ticksBefore.total;
      return {
        ...r,
        scenario,
        transport,
        rssMb: maxRssMb(server.pid),
        heapUsedMb: await heapUsedMb(metricsUrls.get(server)),
        cpuUsPerRequest: r.requests ? (cpu * 1e6) / r.requests : undefined,
        // A noisy neighbour shows here: tail latencies of a run with steal are the host's.
        stealPct: ticks > 0 ? (100 * (ticksAfter.steal - ticksBefore.steal)) / ticks : undefined,
      };
    };
    const http = (url: string, tokens: string, extra: Record<string, string | number> = {}) =>
      runChild(
        'load-http.js',
        {
          url,
          tokens: join(work, tokens),
          connections,
          generator,
          ...(extra.amount ? {} : { duration }),
          ...extra,
        },
        load,
      );
    const grpc = (address: string, tokens: string, extra: Record<string, string | number> = {}) =>
      runChild(
        'load-grpc.js',
        {
          address,
          tokens: join(work, tokens),
          connections,
          ...(extra.amount ? {} : { duration }),
          ...extra,
        },
        load,
      );
    const joseLoop = () =>
      runChild(
        'jose-loop.js',
        {
          tokens: join(work, 'cold.txt'),
          key: join(work, 'issuer.pem'),
          issuer: ISS,
          audience: AUD,
          seconds: 3,
        },
        pinning?.server,
      );

    // 3. The servers: the bare baselines and the resolver as deployed (built service, WORKERS
    //    processes, its own config), all alive at once so their runs can alternate.
    const startBaseline = async (kind: 'fastify' | 'nest' | 'grpc') => {
      const port = await freePort();
      const child = await startProcess(
        [join(DIST, 'bench', 'baselines.js'), '--kind', kind, '--port', String(port)],
        process.env,
        async () =>
          kind !== 'grpc'
            ? (await fetch(`http://127.0.0.1:${port}/v1/resolve`, { method: 'POST' })).ok
            : await new Promise<boolean>((r) => {
                const s = createServer();
                s.once('error', () => r(true));
                s.listen(port, '127.0.0.1', () => s.close(() => r(false)));
              }),
      );
      children.push(child);
      return { child, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}` };
    };
    const startResolver = async (name: string, cache: Record<string, unknown>) => {
      const httpPort = await freePort();
      const grpcPort = await freePort();
      const config = join(work, `${name}.yaml`);
      await writeFile(
        config,
        stringify({
          server: { httpPort, grpcPort, bindAddress: '127.0.0.1', workers },
          database: { poolSize: 20 },
          logging: { level: 'error' },
          cache,
          issuers: [
            {
              issuer: ISS,
              keys: [join(work, 'issuer.pem')],
              audiences: [AUD],
              algorithms: ['ES256'],
            },
            {
              issuer: JIT_ISS,
              keys: [join(work, 'issuer.pem')],
              audiences: [AUD],
              algorithms: ['ES256'],
              jit: { enabled: true },
            },
          ],
        }),
      );
      const url = `http://127.0.0.1:${httpPort}`;
      const child = await startProcess(
        [
          ...(values.profile
            ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'results', 'profiles')}`]
            : []),
          ...values['node-options'].split(/\s+/).filter(Boolean),
          join(DIST, 'apps/resolver/src/main.js'),
        ],
        { PATH: process.env.PATH, RESOLVER_CONFIG: config, DATABASE_URL: dbUrl },
        async () =>
          (
            (await (await fetch(`${url}/health/ready`)).json()) as {
              details?: { listener?: { cachesInUse?: boolean } };
            }
          ).details?.listener?.cachesInUse === true,
      );
      children.push(child);
      metricsUrls.set(child, `${url}/metrics`);
      return { child, url, address: `127.0.0.1:${grpcPort}` };
    };

    const perRound: Record<string, number[]> = {};
    const pairRatio = (name: string, a: Row, b: Row) =>
      (perRound[name] ??= []).push(b.rps ? a.rps / b.rps : NaN);
    const needsMain = scenarios.has('warm') || scenarios.has('cold') || scenarios.has('jit');
    if (needsMain) {
      log(`resolver (caches on, default cache caps, WORKERS=${workers})`);
      const main = await startResolver('resolver', {});
      /**
       * A count-bounded run whose tokens are used once each: half of them over HTTP (`httpFile`),
       * the rest over gRPC (`grpcFile`), for the transports asked for.
       */
      const splitRun = async (
        scenario: string,
        httpFile: string,
        grpcFile: string,
        count: number,
      ) => [
        ...(await only('http', () =>
          measure(scenario, 'http', main.child, () =>
            http(main.url, httpFile, { amount: Math.floor(count / 2) }),
          ),
        )),
        ...(await only('grpc', () =>
          measure(scenario, 'grpc', main.child, () =>
            grpc(main.address, grpcFile, { amount: count - Math.floor(count / 2) }),
          ),
        )),
      ];
      // Prime the caches with the warm set.
      await only('http', () => http(main.url, 'warm.txt', { amount: 2000 }));
      await only('grpc', () => grpc(main.address, 'warm.txt', { amount: 2000 }));

      if (scenarios.has('warm') || scenarios.has('cold')) {
        log('baselines: bare fastify, bare nest+fastify, bare grpc-js, jose verify loop');
        const fastify = await startBaseline('fastify');
        const nest = await startBaseline('nest');
        const bareGrpc = await startBaseline('grpc');
        const series: Record<string, Row[]> = {};
        const add = (row: Row) =>
          (series[`${row.scenario}\u0000${row.transport}`] ??= []).push(row);
        for (let round = 1; round <= rounds; round++) {
          log(`round ${round}/${rounds}`);
          const [f, n, wh] = await only('http', async () => [
            await measure('baseline bare fastify', 'http', fastify.child, () =>
              http(fastify.url, 'warm.txt'),
            ),
            await measure('baseline bare nest+fastify', 'http', nest.child, () =>
              http(nest.url, 'warm.txt'),
            ),
            await measure('warm', 'http', main.child, () => http(main.url, 'warm.txt')),
          ]).then((r) => r[0] ?? []);
          const [g, wg] = await only('grpc', async () => [
            await measure('baseline bare grpc-js', 'grpc', bareGrpc.child, () =>
              grpc(bareGrpc.address, 'warm.txt'),
            ),
            await measure('warm', 'grpc', main.child, () => grpc(main.address, 'warm.txt')),
          ]).then((r) => r[0] ?? []);
          const j = {
            ...(await joseLoop()),
            scenario: 'baseline jose verify',
            transport: 'cpu' as const,
          };
          for (const row of [f, n, wh, g, wg, j]) if (row) add(row);
          if (f && n && wh) {
            pairRatio('warm HTTP / bare Fastify (target >= 0.6)', wh, f);
            pairRatio('warm HTTP / bare Nest+Fastify (framework ceiling)', wh, n);
          }
          if (g && wg) pairRatio('warm gRPC / bare grpc-js (target >= 0.6)', wg, g);
        }
        for (const s of Object.values(series)) rows.push(median(s));
        for (const child of [fastify.child, nest.child, bareGrpc.child]) await stop(child);
      }
      if (scenarios.has('cold')) {
        log('cold tokens (each verified once)');
        const jose = rows.find((r) => r.scenario === 'baseline jose verify');
        for (const row of await splitRun('cold token', 'cold-a.txt', 'cold-b.txt', coldCount)) {
          rows.push(row);
          // The jose loop is one core; the resolver's share is per worker.
          if (jose)
            perRound[
              `cold ${row.transport === 'http' ? 'HTTP' : 'gRPC'} / jose verify per core (target >= 0.8)`
            ] = (jose.roundsRps ?? [jose.rps]).map((j) => row.rps / workers / j);
        }
      }
      if (scenarios.has('jit')) {
        log('jit (every request a new subject)');
        rows.push(...(await splitRun('jit', 'jit-a.txt', 'jit-b.txt', jitCount)));
      }
      if (scenarios.has('jit') && fillCount > 0) {
        log(`filling the caches: ${fillCount.toLocaleString()} distinct users`);
        rows.push(
          await measure(
            `fill: ${fillCount.toLocaleString()} distinct users (caches at default caps)`,
            'http',
            main.child,
            () => http(main.url, 'fill.txt', { amount: fillCount }),
          ),
        );
      }
      await stop(main.child);
    }

    if (scenarios.has('store')) {
      log('resolver (user and negative caches off: every request queries Postgres)');
      const store = await startResolver('store', {
        users: { maxEntries: 0 },
        negative: { maxEntries: 0 },
      });
      await http(store.url, 'store.txt', { amount: 5000 });
      await http(store.url, 'store-1k.txt', { amount: 5000 });
      // All users vs a 1k-user working set, alternating round by round (median reported).
      const storeName = `store: ${users.toLocaleString()} users / 1k working set (target >= 0.9)`;
      const peaks: Row[] = [];
      const smalls: Row[] = [];
      for (let round = 1; round <= rounds; round++) {
        log(`store round ${round}/${rounds}`);
        const all = await measure('store', 'http', store.child, () => http(store.url, 'store.txt'));
        const small = await measure('store, 1k-user working set', 'http', store.child, () =>
          http(store.url, 'store-1k.txt'),
        );
        peaks.push(all);
        smalls.push(small);
        pairRatio(storeName, all, small);
      }
      const peak = median(peaks);
      rows.push(peak);
      rows.push(
        ...(await only('grpc', () =>
          measure('store', 'grpc', store.child, () => grpc(store.address, 'store.txt')),
        )),
      );
      const half = Math.max(1, Math.floor(peak.rps / 2));
      log(`store at half its peak: ${half} req/s, open loop, alternating with the bare floor`);
      const paced = (url: string) =>
        runChild(
          'load-paced.js',
          { url, tokens: join(work, 'store.txt'), rate: half, duration, connections: 64 },
          load,
        );
      // The same open-loop load against the bare Fastify handler: the floor that the machine
      // and the generator put under any latency measured this way. A tail percentile of one
      // short run is at the mercy of one host hiccup, so both alternate over the rounds and the
      // round with the median p99 is reported, every round's p99 beside it.
      const floor = await startBaseline('fastify');
      const pacedRows: Row[] = [];
      const floorRows: Row[] = [];
      for (let round = 1; round <= rounds; round++) {
        log(`store @ half peak round ${round}/${rounds}`);
        pacedRows.push(
          await measure('store @ half peak rate (open loop)', 'http', store.child, () =>
            paced(store.url),
          ),
        );
        floorRows.push(
          await measure('baseline bare fastify @ same rate (open loop)', 'http', floor.child, () =>
            paced(floor.url),
          ),
        );
      }
      await stop(floor.child);
      rows.push(medianBy(pacedRows, 'p99Ms'), medianBy(floorRows, 'p99Ms'));
      perRound['store @ half peak: p99 ms (target <= 5)'] = pacedRows.map((r) => r.p99Ms);
      perRound['bare fastify @ same rate: p99 ms (the floor)'] = floorRows.map((r) => r.p99Ms);
      rows.push(median(smalls));
      await stop(store.child);
    }

    // 4. Report.
    const find = (s: string, t: Row['transport']) =>
      rows.find((r) => r.scenario === s && r.transport === t);
    const cpuRatio = (a?: Row, b?: Row) =>
      a?.cpuUsPerRequest && b?.cpuUsPerRequest ? b.cpuUsPerRequest / a.cpuUsPerRequest : NaN;
    const costRatios = {
      'warm HTTP, server CPU per request: bare Fastify / resolver': cpuRatio(
        find('warm', 'http'),
        find('baseline bare fastify', 'http'),
      ),
      'warm gRPC, server CPU per request: bare grpc-js / resolver': cpuRatio(
        find('warm', 'grpc'),
        find('baseline bare grpc-js', 'grpc'),
      ),
    };
    const fmt = (n: number | undefined, d = 1) =>
      n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '-';
    const lines = [
      `machine: ${cores} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; users ${users.toLocaleString()}; WORKERS=${workers}; resolver node flags: ${values['node-options'] || 'none'}; ${connections} connections; load: ${generator} (HTTP), grpc-js (gRPC), separate processes; ${pinning ? `servers pinned to core ${pinning.server}; load generators${process.env.DATABASE_URL ? '' : ' and Postgres'} to ${pinning.load}` : 'not pinned'}; warm and store rows: median of ${rounds} alternating rounds`,
      '',
      '| scenario | transport | req/s | p50 ms | p99 ms | p99.9 ms | errors | requests | server CPU µs/req | max RSS/process MB | V8 heap used MB | host steal % |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.scenario} | ${r.transport} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.p999Ms, 2)} | ${r.errors} | ${r.requests} | ${fmt(r.cpuUsPerRequest, 0)} | ${fmt(r.rssMb, 0)} | ${fmt(r.heapUsedMb, 0)} | ${fmt(r.stealPct, 1)} |`,
      ),
      '',
      '| ratio (median of rounds) | value | each round |',
      '|---|---:|---|',
      ...Object.entries(perRound).map(
        ([k, v]) => `| ${k} | ${fmt(middle(v), 2)} | ${v.map((x) => fmt(x, 2)).join(', ')} |`,
      ),
      ...Object.entries(costRatios).map(([k, v]) => `| ${k} | ${fmt(v, 2)} | |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          users,
          workers,
          connections,
          duration,
          generator,
          pinning,
          rows,
          ratios: Object.fromEntries(
            Object.entries(perRound).map(([k, v]) => [k, { median: middle(v), rounds: v }]),
          ),
          costRatios,
        },
        null,
        2,
      ),
    );
    log(`results written to ${file}`);
  } finally {
    for (const c of children) await stop(c);
    await embedded?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
