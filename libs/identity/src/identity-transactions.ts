import type { DataSource } from 'typeorm';
import type { ExternalIdentityTable } from './external-identities/external-identity-table';
import { TypeOrmExternalIdentityTable } from './external-identities/typeorm-external-identity-table';
import { refusalOf, withStoreRetry } from './store-errors';
import { inTransaction } from './transaction';
import { TypeOrmUserRepository } from './users/typeorm-user-repository';
import type { UserRepository } from './users/user-repository';

/** The identity tables, bound to one transaction. */
export interface IdentityTables {
  readonly users: UserRepository;
  readonly identities: ExternalIdentityTable;
}

/**
 * Unit of work over `users` and `external_identities`, for writers from outside a token (admin,
 * import). An abstract class so it can serve as the DI token; TypeORM stays behind it.
 *
 * `run` retries the whole transaction on store failures and ends as `USER_STORE_UNAVAILABLE`
 * (never a false "not found"); a refused write (unique index, missing row, check) ends it as a
 * `StoreRefusal`; the `DomainError`s `work` throws pass through untouched.
 * `rollback: true` rolls the transaction back after `work` succeeds and still returns its
 * answer: a dry run that makes every check the store makes and writes nothing.
 */
export abstract class IdentityTransactions {
  abstract run<T>(
    work: (tables: IdentityTables) => Promise<T>,
    options?: { readonly rollback?: boolean },
  ): Promise<T>;
}

/** {@link IdentityTransactions} as TypeORM `EntityManager` transactions. */
export class TypeOrmIdentityTransactions extends IdentityTransactions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  run<T>(
    work: (tables: IdentityTables) => Promise<T>,
    options: { readonly rollback?: boolean } = {},
  ): Promise<T> {
    return withStoreRetry(async () => {
      try {
        return await inTransaction(
          this.dataSource,
          (m) =>
            work({
              users: TypeOrmUserRepository.in(m),
              identities: new TypeOrmExternalIdentityTable(m),
            }),
          options,
        );
      } catch (error) {
        throw refusalOf(error) ?? error;
      }
    }, this.retry);
  }
}
