import { InMemoryExternalIdentityTable } from './external-identities/in-memory-external-identity-table';
import { IdentityTransactions, type IdentityTables } from './identity-transactions';
import { InMemoryDatabase } from './in-memory-database';
import type { UserRecord } from './user';
import { InMemoryUserRepository } from './users/in-memory-user-repository';

/**
 * The admin and import writers' transactions over the in-memory database: `users` and
 * `external_identities` with the store's rules (see InMemoryDatabase), a transaction on copies
 * that replace the rows only on commit.
 */
export class InMemoryIdentityStore extends IdentityTransactions {
  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {
    super();
  }

  /** Transactions committed (a rolled-back or failed one does not count). */
  get commits(): number {
    return this.db.commits;
  }
  set commits(value: number) {
    this.db.commits = value;
  }

  /** The next `run` fails as the real store does when it cannot answer. */
  get failNext(): boolean {
    return this.db.failNext;
  }
  set failNext(value: boolean) {
    this.db.failNext = value;
  }

  /** The live and deleted users, in creation order. */
  allUsers(): UserRecord[] {
    return this.db.allUsers();
  }

  run<T>(
    work: (tables: IdentityTables) => Promise<T>,
    options: { readonly rollback?: boolean } = {},
  ): Promise<T> {
    return this.db.transaction(
      (t) =>
        work({
          users: new InMemoryUserRepository(this.db, t),
          identities: new InMemoryExternalIdentityTable(t, this.db),
        }),
      options,
    );
  }
}
