import { foldEmail } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import { InMemoryDatabase, linkKey, putLink, putUser } from '../in-memory-database';
import { StoreRefusal } from '../store-errors';
import type { LookupKey, NewUser, UserRecord } from '../user';
import { type Provisioned, UserRepository } from './user-repository';

/**
 * The resolve path's user store over the in-memory database, for unit specs of the use cases:
 * the same contract as the Postgres repository (soft-deleted users are found; a live email or
 * username is unique per namespace and tenant, the operator's namespace overlapping every other,
 * and is looked up in the issuer's namespace, then the operator's; a store outage is
 * USER_STORE_UNAVAILABLE). Give it the database the admin or SCIM fakes use to share their rows.
 */
export class InMemoryUserRepository extends UserRepository {
  /** Users provisioned (dry runs excluded). */
  writes = 0;
  /** Calls of `provision` (dry runs included): what coalescing saves. */
  provisionCalls = 0;
  /** When set, `provision` waits for it first (so that concurrent calls overlap). */
  provisionGate: Promise<void> | undefined;

  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {
    super();
  }

  /** When set, every call fails as an unreachable store would. */
  get down(): boolean {
    return this.db.down;
  }
  set down(value: boolean) {
    this.db.down = value;
  }

  /** When set, every call fails as a store whose pool had no connection free in time. */
  get overloaded(): boolean {
    return this.db.overloaded;
  }
  set overloaded(value: boolean) {
    this.db.overloaded = value;
  }

  /** Adds a user (and, with `link`, its external identity) as an admin would. */
  seed(fields: Parameters<InMemoryDatabase['seedUser']>[0]): UserRecord {
    return this.db.seedUser(fields);
  }

  findByKey(key: LookupKey): Promise<UserRecord | null> {
    this.db.checkUp();
    return Promise.resolve(this.find(key) ?? null);
  }

  private find(key: LookupKey): UserRecord | undefined {
    const users = [...this.db.allUsers()].filter((u) => u.tenant === key.tenant);
    const visible = users
      .filter((u) => u.namespace === key.issuer || u.namespace === '')
      .sort((a, b) => Number(b.namespace === key.issuer) - Number(a.namespace === key.issuer));
    switch (key.strategy) {
      case 'external': {
        const id = this.db.tables.links.get(linkKey(key.issuer, key.tenant, key.subject))?.userId;
        return id === undefined ? undefined : this.db.user(id);
      }
      case 'id':
        return users.find((u) => u.id === key.subject);
      case 'email':
        return live(visible.filter((u) => u.email && foldEmail(u.email) === key.subject));
      case 'username':
        return live(visible.filter((u) => u.username === key.subject));
    }
  }

  async provision(
    key: LookupKey,
    user: NewUser,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<Provisioned> {
    this.provisionCalls++;
    await this.provisionGate;
    this.db.checkUp();
    const existing = this.find(key);
    if (existing) return { user: existing, created: false };
    const record = this.db.newUser(user);
    try {
      await this.db.transaction(
        async (t) => {
          putUser(t, record, this.db.tick());
          if (key.strategy === 'external')
            putLink(t, key.issuer, key.tenant, key.subject, record.id, this.db.now());
          return Promise.resolve();
        },
        { rollback: options.dryRun },
      );
    } catch (error) {
      if (!(error instanceof StoreRefusal)) throw error;
      throw new ResolutionError(
        'PROVISIONING_REJECTED',
        "a different user (this issuer's or an operator's) already holds this email or username; link the identity instead",
      );
    }
    if (!options.dryRun) this.writes++;
    return { user: record, created: true };
  }

  ping(): Promise<void> {
    this.db.checkUp();
    return Promise.resolve();
  }
}

/** A live user wins over a deleted one, as in the SQL lookup. */
function live(users: UserRecord[]): UserRecord | undefined {
  return users.find((u) => u.deletedAt === null) ?? users[0];
}
