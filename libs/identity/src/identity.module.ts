import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig } from '@resolver/config';
import { DataSource } from 'typeorm';
import { ChangeAnnouncer, TypeOrmChangeAnnouncer } from './change-announcer';
import { dataSourceOptions } from './data-source-options';
import { IdentifierAudit, TypeOrmIdentifierAudit } from './diagnosis/identifier-audit';
import { NearMissRepository, TypeOrmNearMissRepository } from './diagnosis/near-miss-repository';
import { IdentityTransactions, TypeOrmIdentityTransactions } from './identity-transactions';
import {
  ProofReplayRepository,
  TypeOrmProofReplayRepository,
} from './proofs/proof-replay-repository';
import {
  RevocationRepository,
  TypeOrmRevocationRepository,
} from './revocations/revocation-repository';
import { ScimProvenanceRepository, ScimStore } from './scim/scim-store';
import { ReceivedSetRepository, TypeOrmReceivedSetRepository } from './signals/received-sets';
import { SignalTransactions, TypeOrmSignalTransactions } from './signals/signal-transactions';
import {
  TransmitterStateRepository,
  TypeOrmTransmitterStateRepository,
} from './signals/transmitter-states';
import { TypeOrmScimProvenanceRepository } from './scim/typeorm-scim-provenance';
import { TypeOrmScimStore } from './scim/typeorm-scim-store';
import {
  SsfStreamRepository,
  TypeOrmSsfStreamRepository,
} from './ssf-streams/ssf-stream-repository';
import { TypeOrmUserRepository } from './users/typeorm-user-repository';
import { UserRepository } from './users/user-repository';

type Retry = { attempts: number; backoffMs: number };

/** Each abstract repository (the DI token) and its TypeORM implementation. */
const REPOSITORIES: readonly [
  abstract new () => unknown,
  new (ds: DataSource, r: Retry) => unknown,
][] = [
  [UserRepository, TypeOrmUserRepository],
  [IdentityTransactions, TypeOrmIdentityTransactions],
  [RevocationRepository, TypeOrmRevocationRepository],
  [ProofReplayRepository, TypeOrmProofReplayRepository],
  [ChangeAnnouncer, TypeOrmChangeAnnouncer],
  [NearMissRepository, TypeOrmNearMissRepository],
  [IdentifierAudit, TypeOrmIdentifierAudit],
  [ScimStore, TypeOrmScimStore],
  [ScimProvenanceRepository, TypeOrmScimProvenanceRepository],
  [SsfStreamRepository, TypeOrmSsfStreamRepository],
  [ReceivedSetRepository, TypeOrmReceivedSetRepository],
  [TransmitterStateRepository, TypeOrmTransmitterStateRepository],
  [SignalTransactions, TypeOrmSignalTransactions],
];

/**
 * Postgres through TypeORM, exposed only as abstract repositories (and the DataSource for
 * health). Every repository retries store failures with the configured bounded backoff.
 */
@Module({})
export class IdentityModule {
  static forRoot(db: DatabaseConfig & { url: string }): DynamicModule {
    const retry: Retry = { attempts: db.retryAttempts, backoffMs: db.retryBackoffMs };
    const providers: Provider[] = REPOSITORIES.map(([token, Implementation]) => ({
      provide: token,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new Implementation(ds, retry),
    }));
    return {
      module: IdentityModule,
      // Global: feature modules (admin, SCIM) use the same repositories and the one pool.
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(db),
          // Boot waits for the database a bounded time, then fails loudly.
          retryAttempts: 10,
          retryDelay: 1_000,
        }),
      ],
      providers,
      exports: [...REPOSITORIES.map(([token]) => token), TypeOrmModule],
    };
  }
}
