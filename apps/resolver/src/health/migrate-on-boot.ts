import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { runMigrations } from '@resolver/identity';
import { DataSource } from 'typeorm';

/**
 * Applies pending migrations during module init (when `database.migrationsRun`), so that
 * everything started at application bootstrap — the change listener, the deny-list load —
 * finds the schema in place.
 */
@Injectable()
export class MigrateOnBoot implements OnModuleInit {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrationsRun) return;
    const applied = await runMigrations(this.dataSource);
    if (applied.length) new Logger('Migrations').log(`applied: ${applied.join(', ')}`);
  }
}
