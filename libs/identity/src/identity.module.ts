import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig } from '@resolver/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { TypeOrmUserRepository } from './typeorm-user-repository';
import { UserRepository } from './user-repository';
import { IdentifierAudit } from './admin/identifier-audit';
import { UserAdministration } from './admin/user-administration';
import { RevocationRepository, TypeOrmRevocationRepository } from './revocation-repository';
import { NearMissRepository, TypeOrmNearMissRepository } from './diagnosis/near-miss-repository';
import { ScimProvenanceRepository, ScimStore } from './scim/scim-store';
import { TypeOrmScimProvenanceRepository } from './scim/typeorm-scim-provenance';
import { TypeOrmScimStore } from './scim/typeorm-scim-store';

/** Postgres through TypeORM, exposed only as {@link UserRepository} (and the DataSource for health). */
@Module({})
export class IdentityModule {
  static forRoot(db: DatabaseConfig & { url: string }): DynamicModule {
    return {
      module: IdentityModule,
      // Global: feature modules (SCIM) use the same repositories and the one connection pool.
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(db),
          // Boot waits for the database a bounded time, then fails loudly.
          retryAttempts: 10,
          retryDelay: 1_000,
        }),
      ],
      providers: [
        {
          provide: UserRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new TypeOrmUserRepository(ds, {
              attempts: db.retryAttempts,
              backoffMs: db.retryBackoffMs,
            }),
        },
        {
          provide: RevocationRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new TypeOrmRevocationRepository(ds, {
              attempts: db.retryAttempts,
              backoffMs: db.retryBackoffMs,
            }),
        },
        {
          provide: NearMissRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new TypeOrmNearMissRepository(ds, {
              attempts: db.retryAttempts,
              backoffMs: db.retryBackoffMs,
            }),
        },
        {
          provide: UserAdministration,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new UserAdministration(ds, {
              attempts: db.retryAttempts,
              backoffMs: db.retryBackoffMs,
            }),
        },
        {
          provide: IdentifierAudit,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new IdentifierAudit(ds, { attempts: db.retryAttempts, backoffMs: db.retryBackoffMs }),
        },
        {
          provide: ScimStore,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new TypeOrmScimStore(ds, { attempts: db.retryAttempts, backoffMs: db.retryBackoffMs }),
        },
        {
          provide: ScimProvenanceRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new TypeOrmScimProvenanceRepository(ds, {
              attempts: db.retryAttempts,
              backoffMs: db.retryBackoffMs,
            }),
        },
      ],
      exports: [
        IdentifierAudit,
        ScimStore,
        ScimProvenanceRepository,
        UserRepository,
        RevocationRepository,
        NearMissRepository,
        UserAdministration,
        TypeOrmModule,
      ],
    };
  }
}
