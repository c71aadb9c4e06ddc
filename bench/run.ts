import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportSPKI, generateKeyPair, jwtVerify, type KeyLike, SignJWT } from 'jose';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { stringify } from 'yaml';
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
}

const log = (line: string) => process.stderr.write(`${line}\n`);

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

function runChild(script: string, args: Record<string, string | number>): Promise<RunResult> {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(DIST, 'bench', script), ...argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim()) as RunResult)
        : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Resident set size (MB) of a process and its children (cluster workers), the largest one. */
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
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  return Math.max(read(pid), ...children.map(read));
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
  await client.query('ANALYZE users; ANALYZE external_identities');
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '8' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '1' },
      'cold-tokens': { type: 'string', default: '40000' },
      'jit-requests': { type: 'string', default: '5000' },
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
    await mint(privateKey, ISS, pick(5000), join(work, 'store.txt'));
    await mint(privateKey, ISS, pick(5000, Math.min(1000, users)), join(work, 'store-1k.txt'));
    await mint(
      privateKey,
      JIT_ISS,
      Array.from({ length: jitCount }, (_, i) => `jit-${i}`),
      join(work, 'jit.txt'),
    );

    const rows: Row[] = [];
    const http = (
      scenario: string,
      url: string,
      tokens: string,
      extra: Record<string, string | number> = {},
    ) =>
      runChild('load-http.js', {
        url,
        tokens: join(work, tokens),
        connections,
        ...(extra.amount ? {} : { duration }),
        ...extra,
      }).then((r) => ({ ...r, scenario, transport: 'http' as const }));
    const grpc = (
      scenario: string,
      address: string,
      tokens: string,
      extra: Record<string, string | number> = {},
    ) =>
      runChild('load-grpc.js', {
        address,
        tokens: join(work, tokens),
        connections,
        ...(extra.amount ? {} : { duration }),
        ...extra,
      }).then((r) => ({ ...r, scenario, transport: 'grpc' as const }));

    // 3. Baselines, measured now, on this machine.
    log('baseline: jose jwtVerify loop (one core)');
    {
      const started = process.hrtime.bigint();
      let n = 0;
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        await jwtVerify(cold[n % cold.length] as string, publicKey, {
          issuer: ISS,
          audience: AUD,
          algorithms: ['ES256'],
        });
        n++;
      }
      rows.push({
        scenario: 'baseline jose verify',
        transport: 'cpu',
        rps: n / (Number(process.hrtime.bigint() - started) / 1e9),
        p50Ms: 0,
        p99Ms: 0,
        p999Ms: 0,
        errors: 0,
        requests: n,
      });
    }
    for (const kind of ['fastify', 'nest', 'grpc'] as const) {
      const port = await freePort();
      log(`baseline: bare ${kind}`);
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
      const row =
        kind === 'grpc'
          ? await grpc('baseline bare grpc-js', `127.0.0.1:${port}`, 'warm.txt')
          : await http(
              kind === 'nest' ? 'baseline bare nest+fastify' : 'baseline bare fastify',
              `http://127.0.0.1:${port}`,
              'warm.txt',
            );
      rows.push({ ...row, rssMb: maxRssMb(child.pid) });
      await stop(child);
    }

    // 4. The resolver, as deployed: built service, WORKERS processes, its own config.
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
          join(DIST, 'apps/resolver/src/main.js'),
        ],
        {
          PATH: process.env.PATH,
          RESOLVER_CONFIG: config,
          DATABASE_URL: dbUrl,
        },
        async () =>
          (
            (await (await fetch(`${url}/health/ready`)).json()) as {
              details?: { listener?: { cachesInUse?: boolean } };
            }
          ).details?.listener?.cachesInUse === true,
      );
      children.push(child);
      return { child, url, address: `127.0.0.1:${grpcPort}` };
    };

    log(`resolver (caches on, WORKERS=${workers})`);
    // Default cache caps: the RSS target is stated for them.
    const main = await startResolver('resolver', {});
    // Prime the caches with the warm set, then measure.
    await http('prime', main.url, 'warm.txt', { amount: 2000 });
    for (const row of [
      await http('warm', main.url, 'warm.txt'),
      await grpc('warm', main.address, 'warm.txt'),
      await http('cold token', main.url, 'cold.txt', { amount: Math.floor(coldCount / 2) }),
    ])
      rows.push({ ...row, rssMb: maxRssMb(main.child.pid) });
    // The gRPC cold run uses the other half of the tokens: none of them verified before.
    await writeFile(join(work, 'cold-2.txt'), cold.slice(Math.floor(coldCount / 2)).join('\n'));
    rows.push({
      ...(await grpc('cold token', main.address, 'cold-2.txt', {
        amount: coldCount - Math.floor(coldCount / 2),
      })),
      rssMb: maxRssMb(main.child.pid),
    });
    const jitTokens = readFileSync(join(work, 'jit.txt'), 'utf8').split('\n');
    await writeFile(
      join(work, 'jit-a.txt'),
      jitTokens.slice(0, Math.floor(jitCount / 2)).join('\n'),
    );
    await writeFile(join(work, 'jit-b.txt'), jitTokens.slice(Math.floor(jitCount / 2)).join('\n'));
    rows.push({
      ...(await http('jit', main.url, 'jit-a.txt', { amount: Math.floor(jitCount / 2) })),
      rssMb: maxRssMb(main.child.pid),
    });
    rows.push({
      ...(await grpc('jit', main.address, 'jit-b.txt', {
        amount: jitCount - Math.floor(jitCount / 2),
      })),
      rssMb: maxRssMb(main.child.pid),
    });
    await stop(main.child);

    log('resolver (user and negative caches off: every request queries Postgres)');
    const store = await startResolver('store', {
      users: { maxEntries: 0 },
      negative: { maxEntries: 0 },
    });
    await http('prime', store.url, 'store.txt', { amount: 5000 });
    await http('prime', store.url, 'store-1k.txt', { amount: 5000 });
    const storePeak = await http('store', store.url, 'store.txt');
    rows.push({ ...storePeak, rssMb: maxRssMb(store.child.pid) });
    rows.push({
      ...(await grpc('store', store.address, 'store.txt')),
      rssMb: maxRssMb(store.child.pid),
    });
    rows.push({
      ...(await http('store @ half peak rate', store.url, 'store.txt', {
        rate: Math.max(1, Math.floor(storePeak.rps / 2)),
      })),
      rssMb: maxRssMb(store.child.pid),
    });
    rows.push({
      ...(await http('store, 1k-user working set', store.url, 'store-1k.txt')),
      rssMb: maxRssMb(store.child.pid),
    });
    await stop(store.child);

    // 5. Report.
    const find = (s: string, t: Row['transport']) =>
      rows.find((r) => r.scenario === s && r.transport === t);
    const ratio = (a?: Row, b?: Row) => (a && b && b.rps ? a.rps / b.rps : NaN);
    const ratios = {
      'warm HTTP / bare Fastify (target >= 0.6)': ratio(
        find('warm', 'http'),
        find('baseline bare fastify', 'http'),
      ),
      'warm HTTP / bare Nest+Fastify (framework ceiling)': ratio(
        find('warm', 'http'),
        find('baseline bare nest+fastify', 'http'),
      ),
      'warm gRPC / bare grpc-js (target >= 0.6)': ratio(
        find('warm', 'grpc'),
        find('baseline bare grpc-js', 'grpc'),
      ),
      'cold HTTP / jose verify per core (target >= 0.8)':
        ratio(find('cold token', 'http'), find('baseline jose verify', 'cpu')) / workers,
      'cold gRPC / jose verify per core (target >= 0.8)':
        ratio(find('cold token', 'grpc'), find('baseline jose verify', 'cpu')) / workers,
      [`store: ${users.toLocaleString()} users / 1k working set (target >= 0.9)`]: ratio(
        find('store', 'http'),
        find('store, 1k-user working set', 'http'),
      ),
    };
    const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
    const lines = [
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; users ${users.toLocaleString()}; WORKERS=${workers}; ${connections} connections; load generator in a separate process`,
      '',
      '| scenario | transport | req/s | p50 ms | p99 ms | p99.9 ms | errors | requests | max RSS/process MB |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.scenario} | ${r.transport} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.p999Ms, 2)} | ${r.errors} | ${r.requests} | ${r.rssMb === undefined ? '-' : fmt(r.rssMb, 0)} |`,
      ),
      '',
      '| ratio | value |',
      '|---|---:|',
      ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${fmt(v, 2)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const resultsDir = join(ROOT, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(
      file,
      JSON.stringify(
        { at: new Date().toISOString(), users, workers, connections, duration, rows, ratios },
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
