import { randomUUID } from 'node:crypto';
import {
  foldEmail,
  type LookupKey,
  type NewUser,
  type Provisioned,
  RevocationRepository,
  type RevokedToken,
  type UserRecord,
  UserRepository,
} from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';

/**
 * The user store in memory, for unit specs of the use cases: the same contract as the Postgres
 * repository (soft-deleted users are found, a live email or username is unique per namespace and
 * tenant, the operator's namespace overlapping every other, and is looked up in the issuer's
 * namespace, then the operator's; a store outage is USER_STORE_UNAVAILABLE), without a database.
 */
export class InMemoryUserRepository extends UserRepository {
  readonly users = new Map<string, UserRecord>();
  /** `issuer \0 tenant \0 subject` -> user id. */
  readonly links = new Map<string, string>();
  /** When set, every call fails as an unreachable store would. */
  down = false;
  /** When set, every call fails as a store whose pool had no connection free in time. */
  overloaded = false;
  writes = 0;
  /** Calls of `provision` (dry runs included): what coalescing saves. */
  provisionCalls = 0;
  /** When set, `provision` waits for it first (so that concurrent calls overlap). */
  provisionGate: Promise<void> | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {
    super();
  }

  /** Adds a user (and, with `link`, its external identity) as an admin would. */
  seed(fields: Partial<UserRecord> & { link?: { issuer: string; subject: string } }): UserRecord {
    const at = this.now();
    const { link, ...rest } = fields;
    const user: UserRecord = {
      id: randomUUID(),
      tenant: '',
      namespace: '',
      kind: 'user',
      email: null,
      username: null,
      displayName: null,
      roles: [],
      attributes: {},
      status: 'active',
      statusDecisions: {},
      deletedAt: null,
      tokensValidAfter: null,
      provenance: 'admin',
      createdAt: at,
      updatedAt: at,
      ...rest,
    };
    this.users.set(user.id, user);
    if (link) this.links.set(linkKey(link.issuer, user.tenant, link.subject), user.id);
    return user;
  }

  findByKey(key: LookupKey): Promise<UserRecord | null> {
    this.check();
    const candidates = [...this.users.values()].filter((u) => u.tenant === key.tenant);
    const visible = candidates
      .filter((u) => u.namespace === key.issuer || u.namespace === '')
      .sort((a, b) => Number(b.namespace === key.issuer) - Number(a.namespace === key.issuer));
    let found: UserRecord | undefined;
    switch (key.strategy) {
      case 'external': {
        const id = this.links.get(linkKey(key.issuer, key.tenant, key.subject));
        found = id === undefined ? undefined : this.users.get(id);
        break;
      }
      case 'id':
        found = candidates.find((u) => u.id === key.subject);
        break;
      case 'email':
        found = live(visible.filter((u) => u.email && foldEmail(u.email) === key.subject));
        break;
      case 'username':
        found = live(visible.filter((u) => u.username === key.subject));
        break;
    }
    return Promise.resolve(found ?? null);
  }

  async provision(
    key: LookupKey,
    user: NewUser,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<Provisioned> {
    this.provisionCalls++;
    await this.provisionGate;
    this.check();
    const existing = await this.findByKey(key);
    if (existing) return { user: existing, created: false };
    const taken = [...this.users.values()].some(
      (u) =>
        u.tenant === user.tenant &&
        overlap(u.namespace, user.namespace ?? '') &&
        u.deletedAt === null &&
        ((user.email && u.email && foldEmail(u.email) === foldEmail(user.email)) ||
          (user.username && u.username === user.username)),
    );
    if (taken) {
      throw new ResolutionError(
        'PROVISIONING_REJECTED',
        "a different user (this issuer's or an operator's) already holds this email or username; link the identity instead",
      );
    }
    const record = {
      ...this.seedShape(user),
    };
    if (!options.dryRun) {
      this.writes++;
      this.users.set(record.id, record);
      if (key.strategy === 'external')
        this.links.set(linkKey(key.issuer, key.tenant, key.subject), record.id);
    }
    return { user: record, created: true };
  }

  ping(): Promise<void> {
    this.check();
    return Promise.resolve();
  }

  private seedShape(user: NewUser): UserRecord {
    const at = this.now();
    return {
      id: randomUUID(),
      tenant: user.tenant,
      namespace: user.namespace ?? '',
      kind: user.kind,
      email: user.email ?? null,
      username: user.username ?? null,
      displayName: user.displayName ?? null,
      roles: [...(user.roles ?? [])],
      attributes: { ...(user.attributes ?? {}) },
      status: user.status?.status ?? 'active',
      statusDecisions: user.status?.decisions ?? {},
      deletedAt: null,
      tokensValidAfter: null,
      provenance: user.provenance,
      createdAt: at,
      updatedAt: at,
    };
  }

  private check(): void {
    if (this.down) throw new ResolutionError('USER_STORE_UNAVAILABLE', 'store is down (fake)');
    if (this.overloaded)
      throw new ResolutionError('USER_STORE_OVERLOADED', 'no pool connection in time (fake)');
  }
}

/** The `jti` deny-list in memory. */
export class InMemoryRevocationRepository extends RevocationRepository {
  readonly revoked: RevokedToken[] = [];

  listActive(now: Date): Promise<RevokedToken[]> {
    return Promise.resolve(this.revoked.filter((r) => r.expiresAt > now));
  }
  isRevoked(issuer: string, jti: string): Promise<boolean> {
    return Promise.resolve(this.revoked.some((r) => r.issuer === issuer && r.jti === jti));
  }
  revoke(token: RevokedToken): Promise<void> {
    this.revoked.push(token);
    return Promise.resolve();
  }
  purgeExpired(now: Date): Promise<number> {
    const before = this.revoked.length;
    this.revoked.splice(0, before, ...this.revoked.filter((r) => r.expiresAt > now));
    return Promise.resolve(before - this.revoked.length);
  }
}

function linkKey(issuer: string, tenant: string, subject: string): string {
  return `${issuer}\u0000${tenant}\u0000${subject}`;
}

/** A live user wins over a deleted one, as in the SQL lookup. */
/** Namespaces whose users may not share an email or username: one, or the operator's and any. */
function overlap(a: string, b: string): boolean {
  return a === b || a === '' || b === '';
}

function live(users: UserRecord[]): UserRecord | undefined {
  return users.find((u) => u.deletedAt === null) ?? users[0];
}
