import type { DatabaseConfig } from '@resolver/config';
import type { DataSourceOptions } from 'typeorm';
import { ExternalIdentityEntity } from './entities/external-identity.entity';
import { RevokedTokenEntity } from './entities/revoked-token.entity';
import { UserEntity } from './entities/user.entity';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [UserEntity, ExternalIdentityEntity, RevokedTokenEntity];

/**
 * TypeORM options from the typed config. Schema changes come only from the committed migrations
 * (`synchronize` stays off); every pool connection carries a statement timeout so a slow store
 * turns into USER_STORE_UNAVAILABLE instead of a hang.
 */
export function dataSourceOptions(db: DatabaseConfig & { url: string }): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    applicationName: 'subject-resolver',
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: db.connectTimeoutMs,
      statement_timeout: db.statementTimeoutMs,
      // Client-side bound too: a server that stops answering mid-query must not hold a request.
      query_timeout: db.statementTimeoutMs + 1_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
