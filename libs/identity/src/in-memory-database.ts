import { randomUUID } from 'node:crypto';
import { foldEmail, UUID } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import type { RevokedToken } from './revocations/revocation-repository';
import type { ScimGroupRow } from './scim/scim-store';
import { StoreRefusal } from './store-errors';
import type { NewUser, UserRecord } from './user';

/*
 * The one in-memory database behind every fake of this lib's interfaces (the user repository,
 * the admin transactions' tables, the deny-list, the SCIM store): the same rows, held to the
 * rules the Postgres tables hold them to under the same constraint names, so a unit spec can
 * give the resolver, the admin use cases and SCIM one store, and each fake agrees with the others
 * on what a user is. Test code only (`@resolver/identity/testing`).
 */

/** A `users` row: the record, and its creation time in microseconds (the admin list's cursor). */
export type StoredUser = UserRecord & { readonly micros: bigint };

/** An `external_identities` row. */
export interface StoredLink {
  readonly id: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly subject: string;
  readonly userId: string;
  readonly createdAt: Date;
}

/** A `scim_users` row. */
export interface StoredScimUser {
  readonly userId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly deactivatedAt: Date | null;
  readonly deletedAt: Date | null;
}

/** A `scim_groups` row. */
export interface StoredGroup extends ScimGroupRow {
  readonly issuer: string;
  readonly tenant: string;
}

/** Every table, as plain maps of immutable rows (a transaction copies the maps). */
export interface Tables {
  users: Map<string, StoredUser>;
  /** `issuer \0 tenant \0 subject` -> link. */
  links: Map<string, StoredLink>;
  /** `issuer \0 jti` -> revoked token. */
  revoked: Map<string, RevokedToken>;
  scimUsers: Map<string, StoredScimUser>;
  groups: Map<string, StoredGroup>;
  /** `groupId \0 userId`. */
  members: Set<string>;
}

export const linkKey = (issuer: string, tenant: string, subject: string) =>
  `${issuer}\0${tenant}\0${subject}`;
export const memberKey = (groupId: string, userId: string) => `${groupId}\0${userId}`;
/** Postgres compares uuids whatever their letter case; anything else is no id at all. */
export const uuid = (id: string): string | null => (UUID.test(id) ? id.toLowerCase() : null);

function copyOf(t: Tables): Tables {
  return {
    users: new Map(t.users),
    links: new Map(t.links),
    revoked: new Map(t.revoked),
    scimUsers: new Map(t.scimUsers),
    groups: new Map(t.groups),
    members: new Set(t.members),
  };
}

/** What a user row holds unique. */
type Identifiers = Pick<
  UserRecord,
  'id' | 'tenant' | 'namespace' | 'email' | 'username' | 'deletedAt'
>;

/**
 * Refuses `user` (under the Postgres constraint's name) when a live user of an overlapping
 * namespace and its tenant holds its email (ASCII-folded) or username: one namespace is a unique
 * index, the operator's (`''`) against any other is a trigger.
 */
export function refuseTakenIdentifiers(users: Iterable<Identifiers>, user: Identifiers): void {
  if (user.deletedAt) return;
  for (const other of users) {
    if (other.id === user.id || other.deletedAt || other.tenant !== user.tenant) continue;
    const same = other.namespace === user.namespace;
    if (!same && other.namespace !== '' && user.namespace !== '') continue;
    if (user.email && other.email && foldEmail(other.email) === foldEmail(user.email))
      throw new StoreRefusal(
        'unique',
        same ? 'users_namespace_email_live_key' : 'users_operator_email_key',
      );
    if (user.username && other.username === user.username)
      throw new StoreRefusal(
        'unique',
        same ? 'users_namespace_username_live_key' : 'users_operator_username_key',
      );
  }
}

export class InMemoryDatabase {
  tables: Tables = {
    users: new Map(),
    links: new Map(),
    revoked: new Map(),
    scimUsers: new Map(),
    groups: new Map(),
    members: new Set(),
  };
  /** Transactions committed (a rolled-back or failed one does not count). */
  commits = 0;
  /** When set, every call fails as an unreachable store would. */
  down = false;
  /** The next transaction fails as the real store does when it cannot answer. */
  failNext = false;
  /** When set, every call fails as a store whose pool had no connection free in time. */
  overloaded = false;
  private micros = 1_764_000_000_000_000n;

  /** `now` defaults to the wall clock; pass a frozen or ticking one for stable times. */
  constructor(readonly now: () => Date = () => new Date()) {}

  /** Throws as a store that cannot answer: overloaded, down, or once after `failNext`. */
  checkUp(): void {
    if (this.overloaded)
      throw new ResolutionError('USER_STORE_OVERLOADED', 'no pool connection in time (fake)');
    if (this.down || this.failNext) {
      this.failNext = false;
      throw new ResolutionError('USER_STORE_UNAVAILABLE', 'user store call failed (fake)');
    }
  }

  /**
   * Runs `work` on copies of the tables that replace them only when it succeeds and is not
   * rolled back: a failed or rolled-back transaction leaves nothing behind.
   */
  async transaction<T>(
    work: (t: Tables) => Promise<T>,
    options: { readonly rollback?: boolean } = {},
  ): Promise<T> {
    this.checkUp();
    const copy = copyOf(this.tables);
    const result = await work(copy);
    if (!options.rollback) {
      this.tables = copy;
      this.commits++;
    }
    return result;
  }

  /** The next creation time, strictly increasing (so list order and cursors are stable). */
  tick(): bigint {
    return (this.micros += 1n);
  }

  /**
   * A new user's row as the store fills it: id, timestamps, defaults. Only the input's own
   * fields count (the pollution spec seeds under a polluted Object.prototype).
   */
  newUser(input: NewUser): UserRecord {
    const at = this.now();
    const own = <K extends keyof NewUser>(k: K): NewUser[K] | undefined =>
      Object.hasOwn(input, k) ? input[k] : undefined;
    const status = own('status');
    return {
      id: randomUUID(),
      tenant: input.tenant,
      namespace: own('namespace') ?? '',
      kind: input.kind,
      email: own('email') ?? null,
      username: own('username') ?? null,
      displayName: own('displayName') ?? null,
      roles: [...(own('roles') ?? [])],
      attributes: { ...own('attributes') },
      status: status?.status ?? 'active',
      statusDecisions: status?.decisions ?? {},
      deletedAt: null,
      tokensValidAfter: null,
      provenance: input.provenance,
      createdAt: at,
      updatedAt: at,
    };
  }

  /** Adds a user (and, with `link`, its external identity) as another writer would have. */
  seedUser(
    fields: Partial<UserRecord> & { link?: { issuer: string; tenant?: string; subject: string } },
  ): UserRecord {
    const { link, ...rest } = fields;
    const user: UserRecord = {
      ...this.newUser({ tenant: '', kind: 'user', provenance: 'admin' }),
      ...rest,
    };
    putUser(this.tables, user, this.tick());
    if (link)
      putLink(
        this.tables,
        link.issuer,
        link.tenant ?? user.tenant,
        link.subject,
        user.id,
        this.now(),
      );
    return user;
  }

  /** The `users` row, without its cursor (what resolution reads). */
  user(id: string): UserRecord | undefined {
    return recordOf(this.tables.users.get(id));
  }

  /** Every user, live and deleted, in creation order. */
  allUsers(): UserRecord[] {
    return [...this.tables.users.values()].map((u) => recordOf(u) as UserRecord);
  }

  /** The user id (issuer, tenant, subject) resolves to, or undefined. */
  linked(issuer: string, tenant: string, subject: string): string | undefined {
    return this.tables.links.get(linkKey(issuer, tenant, subject))?.userId;
  }

  /** The subjects linked to a user, as `issuer tenant subject`. */
  linksOf(userId: string): string[] {
    return [...this.tables.links.values()]
      .filter((l) => l.userId === userId)
      .map((l) => `${l.issuer} ${l.tenant} ${l.subject}`);
  }
}

export function recordOf(stored: StoredUser | undefined): UserRecord | undefined {
  if (!stored) return undefined;
  const { micros: _, ...user } = stored;
  return user;
}

/** Stores the user unless a live user holds its email or username (see refuseTakenIdentifiers). */
export function putUser(t: Tables, user: UserRecord, micros?: bigint): UserRecord {
  refuseTakenIdentifiers(t.users.values(), user);
  const kept = micros ?? t.users.get(user.id)?.micros ?? 0n;
  t.users.set(user.id, { ...user, micros: kept });
  return user;
}

/** Links (issuer, tenant, subject) to a user: one user per key, and only an existing user. */
export function putLink(
  t: Tables,
  issuer: string,
  tenant: string,
  subject: string,
  userId: string,
  at: Date,
): StoredLink {
  if (!t.users.has(userId)) throw new StoreRefusal('reference', 'external_identities_user_id_fkey');
  const link = { id: randomUUID(), issuer, tenant, subject, userId, createdAt: at };
  t.links.set(linkKey(issuer, tenant, subject), link);
  return link;
}
