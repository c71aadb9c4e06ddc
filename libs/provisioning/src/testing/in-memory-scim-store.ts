import { randomUUID } from 'node:crypto';
import {
  SCIM_CONSTRAINT_ATTRIBUTES,
  ScimConflict,
  ScimStore,
  type ScimTransaction,
  type StatusState,
  StoreRefusal,
} from '@resolver/identity';
import { type FakeUser, linkKey, putUser, type ScimTables } from './in-memory-scim-tables';
import { InMemoryScimTransaction } from './in-memory-scim-transaction';

export type { FakeUser } from './in-memory-scim-tables';

/**
 * The SCIM tables and the `users` / `external_identities` columns they join, in memory, for the
 * SCIM use cases' unit specs. It keeps the rules the Postgres store keeps, under the same
 * constraint names (so a conflict names the same SCIM attribute):
 * - a live user's username (exact) and email (ASCII-folded) are unique per namespace and tenant,
 *   the operator's namespace `''` overlapping every other;
 * - a live SCIM user's userName is unique per issuer and tenant, case-insensitively;
 * - one user per (issuer, tenant, subject); a link held by a deleted user moves, a live one is a
 *   conflict; a SCIM user keeps one subject per scope;
 * - a group's displayName is unique per issuer and tenant, case-insensitively; members reference
 *   existing users and groups, and go with a deleted user or group.
 * A transaction works on copies of the maps that replace the tables only when it succeeds.
 */
export class InMemoryScimStore extends ScimStore {
  tables: ScimTables = {
    users: new Map(),
    links: new Map(),
    scimUsers: new Map(),
    groups: new Map(),
    members: new Set(),
  };
  /** Transactions committed (a failed one does not count). */
  commits = 0;
  private ticks = 0;

  constructor(private readonly start = Date.UTC(2026, 0, 1)) {
    super();
  }

  async transaction<T>(work: (tx: ScimTransaction) => Promise<T>): Promise<T> {
    const copy: ScimTables = {
      users: new Map(this.tables.users),
      links: new Map(this.tables.links),
      scimUsers: new Map(this.tables.scimUsers),
      groups: new Map(this.tables.groups),
      members: new Set(this.tables.members),
    };
    try {
      const result = await work(new InMemoryScimTransaction(copy, () => this.now()));
      this.tables = copy;
      this.commits++;
      return result;
    } catch (error) {
      // As the Postgres store answers a unique index: the SCIM attribute it protects.
      if (error instanceof StoreRefusal && error.kind === 'unique')
        throw new ScimConflict(SCIM_CONSTRAINT_ATTRIBUTES[error.constraint ?? ''] || 'value');
      throw error;
    }
  }

  /** A user another writer (JIT, admin, import) created, with its link when `subject` is given. */
  seedUser(
    fields: Partial<FakeUser> & { link?: { issuer: string; tenant?: string; subject: string } },
  ): string {
    const { link, ...rest } = fields;
    const user: FakeUser = {
      id: randomUUID(),
      tenant: '',
      namespace: '',
      kind: 'user',
      email: null,
      username: null,
      displayName: null,
      roles: [],
      status: 'active',
      statusDecisions: {},
      provenance: 'jit',
      deletedAt: null,
      ...rest,
    };
    putUser(this.tables, user);
    if (link) this.seedLink(link.issuer, link.tenant ?? user.tenant, link.subject, user.id);
    return user.id;
  }

  seedLink(issuer: string, tenant: string, subject: string, userId: string): void {
    this.tables.links.set(linkKey(issuer, tenant, subject), { issuer, tenant, subject, userId });
  }

  /** The `users` row (what resolution reads). */
  user(id: string): FakeUser | undefined {
    return this.tables.users.get(id);
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

  /** Whether SCIM's own deactivation of the user stands (`scim_users.deactivated_at`). */
  deactivated(userId: string): boolean {
    return (this.tables.scimUsers.get(userId)?.deactivatedAt ?? null) !== null;
  }

  /** An operator's write of a user's status, as the admin API makes it. */
  setStatus(userId: string, state: StatusState): void {
    const user = this.tables.users.get(userId);
    if (user)
      this.tables.users.set(userId, {
        ...user,
        status: state.status,
        statusDecisions: state.decisions,
      });
  }

  /** Strictly increasing, so list order and `lastModified` are stable. */
  private now(): Date {
    return new Date(this.start + ++this.ticks * 1000);
  }
}
