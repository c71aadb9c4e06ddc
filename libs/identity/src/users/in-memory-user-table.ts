/* eslint-disable @typescript-eslint/require-await -- an in-memory fake of an async interface: nothing to await */
import { foldEmail } from '@resolver/policy';
import { type InMemoryDatabase, putUser, recordOf, type Tables } from '../in-memory-database';
import type { NewUser, StatusState, UserRecord } from '../user';
import type {
  LiveHolder,
  UserChanges,
  UserListFilter,
  UserListPage,
  UserMerge,
  UserTable,
} from './user-table';

/** The `users` table inside one in-memory transaction (see InMemoryIdentityStore). */
export class InMemoryUserTable implements UserTable {
  constructor(
    private readonly t: Tables,
    private readonly db: InMemoryDatabase,
  ) {}

  async insert(user: NewUser): Promise<UserRecord> {
    return putUser(this.t, this.db.newUser(user), this.db.tick());
  }

  async findById(id: string) {
    return recordOf(this.t.users.get(id)) ?? null;
  }

  async list(filter: UserListFilter): Promise<UserListPage> {
    const after = filter.after;
    const matching = [...this.t.users.values()]
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

  async lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]> {
    const holders: LiveHolder[] = [];
    for (const u of this.t.users.values()) {
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
    const stored = recordOf(this.t.users.get(id));
    if (!stored) return null;
    return putUser(this.t, { ...next(stored), updatedAt: this.db.now() });
  }
}
