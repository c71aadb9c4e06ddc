import type { ResolverConfig } from '@resolver/config';
import {
  dataSourceOptions,
  EmbeddedDatabaseInUseError,
  runMigrations,
  runningEmbeddedDatabase,
  startEmbeddedDatabase,
} from '@resolver/identity';
import { DataSource } from 'typeorm';

/** The database `migrate` works on, and how to let go of it afterwards. */
interface Target {
  readonly url: string;
  /** Said before the result: which database this is, when it is not the obvious one. */
  readonly note?: string;
  release(): Promise<void>;
}

/**
 * External mode: the configured URL. Embedded mode: the Postgres of a resolver running on this
 * DATA_DIR when there is one (Postgres allows one server per data directory, and that one is
 * reachable on loopback with the recorded password), else the embedded Postgres started here.
 */
async function target(config: ResolverConfig): Promise<Target> {
  const none = () => Promise.resolve();
  // External mode always has a URL (it is what makes the mode external).
  if (config.mode !== 'embedded') return { url: config.database.url ?? '', release: none };
  const shared = async (): Promise<Target | undefined> => {
    const running = await runningEmbeddedDatabase(config.embedded);
    return (
      running && {
        url: running.url,
        note: `the embedded Postgres under ${config.embedded.dataDir} is held by a running resolver (Postgres pid ${running.pid}, 127.0.0.1:${running.port}): migrating it there; the resolver applied pending migrations when it started`,
        release: none,
      }
    );
  };
  const found = await shared();
  if (found) return found;
  try {
    const embedded = await startEmbeddedDatabase(config.embedded);
    return { url: embedded.url, release: () => embedded.stop() };
  } catch (error) {
    // A resolver started between the look and the start: use its server after all.
    const late = error instanceof EmbeddedDatabaseInUseError ? await shared() : undefined;
    if (late) return late;
    throw error;
  }
}

/** `migrate`: applies pending migrations to the configured (or embedded) database. */
export async function migrateCommand(config: ResolverConfig): Promise<number> {
  const database = await target(config);
  if (database.note) process.stderr.write(`${database.note}\n`);
  const dataSource = new DataSource(dataSourceOptions({ ...config.database, url: database.url }));
  try {
    await dataSource.initialize();
    // Under the advisory lock every resolver takes too: never alongside a starting replica.
    const applied = await runMigrations(dataSource);
    process.stdout.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date: no pending migrations\n',
    );
    return 0;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.release();
  }
}
