import type { ResolverConfig } from '@resolver/config';
import {
  dataSourceOptions,
  EmbeddedDatabaseInUseError,
  type EmbeddedDatabase,
  runMigrations,
  startEmbeddedDatabase,
} from '@resolver/identity';
import { DataSource } from 'typeorm';

/** `migrate`: applies pending migrations to the configured (or embedded) database. */
export async function migrateCommand(config: ResolverConfig): Promise<number> {
  let embedded: EmbeddedDatabase | undefined;
  try {
    embedded =
      config.mode === 'embedded' ? await startEmbeddedDatabase(config.embedded) : undefined;
  } catch (error) {
    if (!(error instanceof EmbeddedDatabaseInUseError)) throw error;
    process.stderr.write(
      `${error.message}.\nA running resolver applies pending migrations when it starts (database.migrationsRun), so it is already migrated. To run migrate on its own, stop the resolver first (Ctrl-C in its terminal).\n`,
    );
    return 1;
  }
  // External mode always has a URL (it is what makes the mode external).
  const url = embedded?.url ?? config.database.url ?? '';
  const dataSource = new DataSource(dataSourceOptions({ ...config.database, url }));
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource);
    process.stdout.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date: no pending migrations\n',
    );
    return 0;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}
