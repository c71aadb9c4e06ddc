import type { DataSource } from 'typeorm';
import type { ExternalIdentityTable } from '../external-identities/external-identity-table';
import { TypeOrmExternalIdentityTable } from '../external-identities/typeorm-external-identity-table';
import { refusalOf, withStoreRetry } from '../store-errors';
import { inTransaction } from '../transaction';
import { TypeOrmUserRepository } from '../users/typeorm-user-repository';
import type { UserRepository } from '../users/user-repository';
import { type ReceivedSetTable, TypeOrmReceivedSetTable } from './received-sets';

/** The tables a shared signal changes, bound to one transaction. */
export interface SignalTables {
  readonly users: UserRepository;
  readonly identities: ExternalIdentityTable;
  readonly receivedSets: ReceivedSetTable;
}

/**
 * Unit of work of one received SET: its `jti` is claimed and its effect written in one
 * transaction, so a SET is applied exactly once across replicas and a failure leaves no claim
 * behind (the transmitter's retry applies it). Retried as a whole on store failures.
 */
export abstract class SignalTransactions {
  abstract run<T>(work: (tables: SignalTables) => Promise<T>): Promise<T>;
}

/** {@link SignalTransactions} as TypeORM transactions. */
export class TypeOrmSignalTransactions extends SignalTransactions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  run<T>(work: (tables: SignalTables) => Promise<T>): Promise<T> {
    return withStoreRetry(async () => {
      try {
        return await inTransaction(this.dataSource, (m) =>
          work({
            users: TypeOrmUserRepository.in(m),
            identities: new TypeOrmExternalIdentityTable(m),
            receivedSets: new TypeOrmReceivedSetTable(m),
          }),
        );
      } catch (error) {
        throw refusalOf(error) ?? error;
      }
    }, this.retry);
  }
}
