import type { ResolverConfig } from '@resolver/config';
import { dataSourceOptions, runMigrations, startEmbeddedDatabase } from '@resolver/identity';
import { DataSource } from 'typeorm';

/** `migrate`: applies pending migrations to the configured (or embedded) database. */
export async function migrateCommand(config: ResolverConfig): Promise<number> {
  const embedded =
    config.mode === 'embedded' ? await startEmbeddedDatabase(config.embedded) : undefined;
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
