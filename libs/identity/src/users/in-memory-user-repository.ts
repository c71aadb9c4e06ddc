import { foldEmail } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import {
  InMemoryDatabase,
  linkKey,
  putLink,
  putUser,
  recordOf,
  type Tables,
} from '../in-memory-database';
import { StoreRefusal } from '../store-errors';
import type { SignalState } from '@resolver/policy';
import type { LookupKey, NewUser, StatusState, UserRecord } from '../user';
import {
  type LiveHolder,
  type Provisioned,
  type UserChanges,
  type UserListFilter,
  type UserListPage,
  type UserMerge,
  UserRepository,
} from './user-repository';

/* eslint-disable @typescript-eslint/require-await -- an in-memory fake of an async interface: nothing to await */
/**
 * The `users` repository over the in-memory database, for unit specs of the use cases:
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

  /** On the database's committed rows, or (`tx`) on one transaction's copies of them. */
  constructor(
    readonly db: InMemoryDatabase = new InMemoryDatabase(),
    private readonly tx?: Tables,
  ) {
    super();
  }

  private get tables(): Tables {
    return this.tx ?? this.db.tables;
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
    const users = [...this.tables.users.values()]
      .map((u) => recordOf(u) as UserRecord)
      .filter((u) => u.tenant === key.tenant);
    const visible = users
      .filter((u) => u.namespace === key.issuer || u.namespace === '')
      .sort((a, b) => Number(b.namespace === key.issuer) - Number(a.namespace === key.issuer));
    switch (key.strategy) {
      case 'external': {
        const id = this.tables.links.get(linkKey(key.issuer, key.tenant, key.subject))?.userId;
        return id === undefined ? undefined : recordOf(this.tables.users.get(id));
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
    const write = (t: Tables) => {
      putUser(t, record, this.db.tick());
      if (key.strategy === 'external')
        putLink(t, key.issuer, key.tenant, key.subject, record.id, this.db.now());
    };
    try {
      if (this.tx) write(options.dryRun ? copyOfTables(this.tx) : this.tx);
      else await this.db.transaction(async (t) => write(t), { rollback: options.dryRun });
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

  async insert(user: NewUser): Promise<UserRecord> {
    return putUser(this.tables, this.db.newUser(user), this.db.tick());
  }

  async findById(id: string) {
    return recordOf(this.tables.users.get(id)) ?? null;
  }

  async list(filter: UserListFilter): Promise<UserListPage> {
    const after = filter.after;
    const matching = [...this.tables.users.values()]
      .filter(
        (u) =>
          (filter.tenant === undefined || u.tenant === filter.tenant) &&
          (!filter.status || u.status === filter.status) &&
          (!filter.email || u.email?.toLowerCase() === filter.email.toLowerCase()) &&
          (!filter.provenance || u.provenance === filter.provenance) &&
          (filter.deleted === 'all' || (filter.deleted === 'true') === (u.deletedAt !== null)) &&
          (!after ||
            u.micros > BigInt(after.createdAtMicros) ||
            (u.micros === BigInt(after.createdAtMicros) && u.id > after.id)),
      )
      .sort((a, b) =>
        a.micros === b.micros ? a.id.localeCompare(b.id) : a.micros < b.micros ? -1 : 1,
      );
    const page = matching.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      users: page.map((u) => recordOf(u) as UserRecord),
      next:
        matching.length > filter.limit && last
          ? { createdAtMicros: String(last.micros), id: last.id }
          : undefined,
    };
  }

  update(id: string, changes: UserChanges) {
    return this.change(id, (u) => ({
      ...u,
      ...(changes.email !== undefined && { email: changes.email }),
      ...(changes.username !== undefined && { username: changes.username }),
      ...(changes.displayName !== undefined && { displayName: changes.displayName }),
      ...(changes.roles !== undefined && { roles: [...changes.roles] }),
      ...(changes.attributes !== undefined && { attributes: { ...changes.attributes } }),
    }));
  }

  setStatus(id: string, state: StatusState) {
    return this.change(id, (u) => ({
      ...u,
      status: state.status,
      statusDecisions: state.decisions,
    }));
  }

  softDelete(id: string) {
    return this.change(id, (u) => ({ ...u, deletedAt: u.deletedAt ?? this.db.now() }));
  }

  restore(id: string) {
    return this.change(id, (u) => ({ ...u, deletedAt: null }));
  }

  signOutEverywhere(id: string) {
    const next = Math.floor(this.db.now().getTime() / 1000) * 1000 + 1000;
    return this.change(id, (u) => ({ ...u, tokensValidAfter: new Date(next) }));
  }

  recordSignals(id: string, signals: SignalState, tokensValidAfter?: Date) {
    return this.change(id, (u) => ({
      ...u,
      signals,
      ...(tokensValidAfter !== undefined && {
        tokensValidAfter:
          u.tokensValidAfter && u.tokensValidAfter >= tokensValidAfter
            ? u.tokensValidAfter
            : tokensValidAfter,
      }),
    }));
  }

  async lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]> {
    const holders: LiveHolder[] = [];
    for (const u of this.tables.users.values()) {
      if (u.tenant !== tenant || u.deletedAt) continue;
      if (
        'email' in by
          ? u.email !== null && foldEmail(u.email) === by.email
          : u.username === by.username
      )
        holders.push({ id: u.id, namespace: u.namespace });
    }
    return holders
      .sort((a, b) => Number(b.namespace === '') - Number(a.namespace === ''))
      .slice(0, 2);
  }

  async merge(id: string, fields: UserMerge): Promise<void> {
    await this.change(id, (u) => ({
      ...u,
      email: fields.email ?? u.email,
      username: fields.username ?? u.username,
      displayName: fields.displayName ?? u.displayName,
      ...(fields.status && {
        status: fields.status.status,
        statusDecisions: fields.status.decisions,
      }),
      roles: [...fields.roles],
      attributes: { ...u.attributes, ...fields.attributes },
    }));
  }

  private async change(id: string, next: (u: UserRecord) => UserRecord) {
    const stored = recordOf(this.tables.users.get(id));
    if (!stored) return null;
    return putUser(this.tables, { ...next(stored), updatedAt: this.db.now() });
  }
}

function copyOfTables(t: Tables): Tables {
  return { ...t, users: new Map(t.users), links: new Map(t.links) };
}

/** A live user wins over a deleted one, as in the SQL lookup. */
function live(users: UserRecord[]): UserRecord | undefined {
  return users.find((u) => u.deletedAt === null) ?? users[0];
}
