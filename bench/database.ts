import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  type EmbeddedDatabase,
  runMigrations,
  startEmbeddedDatabase,
} from '@resolver/identity';
import { freePort, log, type Pinning } from './processes';

/** The bench's database: a fresh one on DATABASE_URL's server or an embedded Postgres. */
export interface BenchDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Creates the bench's database (on `DATABASE_URL`'s server, or an embedded Postgres in `work`
 * pinned beside the load generators) and migrates it.
 */
export async function createDatabase(work: string, pinning?: Pinning): Promise<BenchDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    log('starting embedded Postgres (set DATABASE_URL to use your own server)');
    embedded = await startEmbeddedDatabase(
      { dataDir: join(work, 'pg'), port: await freePort() },
      undefined,
      'postgres',
    );
    serverUrl = embedded.url;
    // Postgres runs beside the load generators, off the server's core, as a database server
    // on its own machine would: backends forked later inherit the postmaster's cores.
    const postmaster = Number(
      readFileSync(join(work, 'pg/pg/postmaster.pid'), 'utf8').split('\n')[0],
    );
    if (pinning && postmaster)
      execFileSync('taskset', ['-a', '-p', '-c', pinning.load, String(postmaster)], {
        stdio: 'ignore',
      });
  }
  const stop = async () => {
    await embedded?.stop();
  };
  try {
    const dbName = `bench_${Date.now()}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
    const ds = new DataSource(
      dataSourceOptions({
        url,
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
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
