/* eslint-disable @typescript-eslint/require-await -- in-memory fakes of async interfaces: nothing to await */
import { randomUUID } from 'node:crypto';
import {
  ChangeAnnouncer,
  type ExternalIdentity,
  type ExternalIdentityTable,
  type IdentityKey,
  type IdentityTables,
  IdentityTransactions,
  type LiveHolder,
  type NewUser,
  type RevokedToken,
  RevocationRepository,
  type StatusState,
  StoreRefusal,
  type UserChanges,
  type UserListFilter,
  type UserListPage,
  type UserMerge,
  type UserRecord,
  type UserTable,
} from '@resolver/identity';
import { foldEmail } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import { refuseTakenIdentifiers } from './in-memory-scim-tables';

type StoredIdentity = ExternalIdentity & { readonly userId: string };

interface Rows {
  users: Map<string, UserRecord & { readonly micros: bigint }>;
  identities: Map<string, StoredIdentity>;
}

/**
 * `users` and `external_identities` in memory, with the store's rules that the admin use cases
 * rely on: live email (ASCII-folded) and username unique per namespace and tenant (the operator's
 * namespace overlapping every other), one user per identity key,
 * an identity only for an existing user. A transaction works on a copy that replaces the rows
 * only on commit, so a failed or rolled-back one leaves nothing behind.
 */
export class InMemoryIdentityStore extends IdentityTransactions {
  rows: Rows = { users: new Map(), identities: new Map() };
  /** Transactions committed (a rolled-back or failed one does not count). */
  commits = 0;
  /** The next `run` fails as the real store does when it cannot answer. */
  failNext = false;
  private micros = 1_764_000_000_000_000n;

  constructor(private readonly now: () => Date = () => new Date()) {
    super();
  }

  /** The live and deleted users, in creation order. */
  allUsers(): UserRecord[] {
    return [...this.rows.users.values()].map(({ micros: _, ...u }) => u);
  }

  async run<T>(
    work: (tables: IdentityTables) => Promise<T>,
    options: { readonly rollback?: boolean } = {},
  ): Promise<T> {
    if (this.failNext) {
      this.failNext = false;
      throw new ResolutionError('USER_STORE_UNAVAILABLE', 'user store call failed: ECONNREFUSED');
    }
    const copy: Rows = {
      users: new Map(this.rows.users),
      identities: new Map(this.rows.identities),
    };
    const result = await work({
      users: new Users(copy, this.now, () => (this.micros += 1n)),
      identities: new Identities(copy, this.now),
    });
    if (!options.rollback) {
      this.rows = copy;
      this.commits++;
    }
    return result;
  }
}

class Users implements UserTable {
  constructor(
    private readonly rows: Rows,
    private readonly now: () => Date,
    private readonly tick: () => bigint,
  ) {}

  async insert(user: NewUser): Promise<UserRecord> {
    const at = this.now();
    const record: UserRecord = {
      id: randomUUID(),
      tenant: user.tenant,
      namespace: user.namespace ?? '',
      kind: user.kind,
      email: user.email ?? null,
      username: user.username ?? null,
      displayName: user.displayName ?? null,
      roles: [...(user.roles ?? [])],
      attributes: { ...user.attributes },
      status: user.status?.status ?? 'active',
      statusDecisions: user.status?.decisions ?? {},
      deletedAt: null,
      tokensValidAfter: null,
      provenance: user.provenance,
      createdAt: at,
      updatedAt: at,
    };
    return this.put(record, this.tick());
  }

  async findById(id: string) {
    return strip(this.rows.users.get(id));
  }

  async list(filter: UserListFilter): Promise<UserListPage> {
    const after = filter.after;
    const matching = [...this.rows.users.values()]
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
      users: page.map((u) => strip(u) as UserRecord),
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
    return this.change(id, (u) => ({ ...u, deletedAt: u.deletedAt ?? this.now() }));
  }

  restore(id: string) {
    return this.change(id, (u) => ({ ...u, deletedAt: null }));
  }

  signOutEverywhere(id: string) {
    const next = Math.floor(this.now().getTime() / 1000) * 1000 + 1000;
    return this.change(id, (u) => ({ ...u, tokensValidAfter: new Date(next) }));
  }

  async lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]> {
    const holders: LiveHolder[] = [];
    for (const u of this.rows.users.values()) {
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
    const stored = this.rows.users.get(id);
    if (!stored) return null;
    const { micros, ...user } = stored;
    return this.put({ ...next(user), updatedAt: this.now() }, micros);
  }

  /** Stores the user unless a live user of an overlapping namespace and its tenant holds its email or username. */
  private put(user: UserRecord, micros: bigint): UserRecord {
    refuseTakenIdentifiers(this.rows.users.values(), user);
    this.rows.users.set(user.id, { ...user, micros });
    return user;
  }
}

class Identities implements ExternalIdentityTable {
  constructor(
    private readonly rows: Rows,
    private readonly now: () => Date,
  ) {}

  async insert(userId: string, key: IdentityKey): Promise<ExternalIdentity> {
    if (!this.rows.users.has(userId))
      throw new StoreRefusal('reference', 'external_identities_user_id_fkey');
    if ((await this.findUserId(key)) !== null)
      throw new StoreRefusal('unique', 'external_identities_key');
    const identity: StoredIdentity = {
      id: randomUUID(),
      issuer: key.issuer,
      tenant: key.tenant,
      subject: key.subject,
      userId,
      createdAt: this.now(),
    };
    this.rows.identities.set(identity.id, identity);
    const { userId: _, ...shown } = identity;
    return shown;
  }

  async insertIfAbsent(userId: string, key: IdentityKey): Promise<boolean> {
    if ((await this.findUserId(key)) !== null) return false;
    await this.insert(userId, key);
    return true;
  }

  async listForUser(userId: string): Promise<ExternalIdentity[]> {
    return [...this.rows.identities.values()]
      .filter((i) => i.userId === userId)
      .map(({ userId: _, ...shown }) => shown);
  }

  async delete(userId: string, identityId: string): Promise<boolean> {
    if (this.rows.identities.get(identityId)?.userId !== userId) return false;
    return this.rows.identities.delete(identityId);
  }

  async findUserId(key: IdentityKey): Promise<string | null> {
    for (const i of this.rows.identities.values())
      if (i.issuer === key.issuer && i.tenant === key.tenant && i.subject === key.subject)
        return i.userId;
    return null;
  }
}

function strip(stored: (UserRecord & { micros: bigint }) | undefined): UserRecord | null {
  if (!stored) return null;
  const { micros: _, ...user } = stored;
  return user;
}

/** The deny-list in memory (revoking twice keeps the later expiry, as the store does). */
export class InMemoryRevocations extends RevocationRepository {
  readonly rows = new Map<string, RevokedToken>();

  async listActive(now: Date): Promise<RevokedToken[]> {
    return [...this.rows.values()].filter((r) => r.expiresAt > now);
  }
  async isRevoked(issuer: string, jti: string): Promise<boolean> {
    return this.rows.has(`${issuer} ${jti}`);
  }
  async revoke(token: RevokedToken): Promise<void> {
    const key = `${token.issuer} ${token.jti}`;
    const held = this.rows.get(key);
    if (!held || held.expiresAt < token.expiresAt) this.rows.set(key, { ...token });
  }
  async purgeExpired(now: Date): Promise<number> {
    let n = 0;
    for (const [key, r] of this.rows) if (r.expiresAt <= now && this.rows.delete(key)) n++;
    return n;
  }
}

/** Counts the "everything changed" announcements. */
export class RecordingAnnouncer extends ChangeAnnouncer {
  announcements = 0;
  async announceEverythingChanged(): Promise<void> {
    this.announcements++;
  }
}
