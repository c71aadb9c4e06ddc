import { InMemoryDatabase, putLink, type Tables } from '../in-memory-database';
import { StoreRefusal } from '../store-errors';
import type { StatusState, UserRecord } from '../user';
import { SCIM_CONSTRAINT_ATTRIBUTES } from './scim-constraints';
import { ScimConflict, ScimStore, type ScimTransaction } from './scim-store';
import { InMemoryScimTransaction } from './in-memory-scim-transaction';

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
  /**
   * Over `db` when given (to share rows with the resolver's or the admin's fakes); otherwise
   * its own, on a clock that ticks a second per reading from `start`, so list order and
   * `lastModified` are stable.
   */
  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase(ticking(Date.UTC(2026, 0, 1)))) {
    super();
  }

  /** The rows, as the last committed transaction left them. */
  get tables(): Tables {
    return this.db.tables;
  }

  /** Transactions committed (a failed one does not count). */
  get commits(): number {
    return this.db.commits;
  }

  async transaction<T>(work: (tx: ScimTransaction) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction((t) => work(new InMemoryScimTransaction(t, this.db)));
    } catch (error) {
      // As the Postgres store answers a unique index: the SCIM attribute it protects.
      if (error instanceof StoreRefusal && error.kind === 'unique')
        throw new ScimConflict(SCIM_CONSTRAINT_ATTRIBUTES[error.constraint ?? ''] || 'value');
      throw error;
    }
  }

  /** A user another writer (JIT, admin, import) created, with its link when `subject` is given. */
  seedUser(fields: Parameters<InMemoryDatabase['seedUser']>[0]): string {
    return this.db.seedUser({ provenance: 'jit', ...fields }).id;
  }

  seedLink(issuer: string, tenant: string, subject: string, userId: string): void {
    putLink(this.db.tables, issuer, tenant, subject, userId, this.db.now());
  }

  /** The `users` row (what resolution reads). */
  user(id: string): UserRecord | undefined {
    return this.db.user(id);
  }

  /** The user id (issuer, tenant, subject) resolves to, or undefined. */
  linked(issuer: string, tenant: string, subject: string): string | undefined {
    return this.db.linked(issuer, tenant, subject);
  }

  /** The subjects linked to a user, as `issuer tenant subject`. */
  linksOf(userId: string): string[] {
    return this.db.linksOf(userId);
  }

  /** Whether SCIM's own deactivation of the user stands (`scim_users.deactivated_at`). */
  deactivated(userId: string): boolean {
    return (this.db.tables.scimUsers.get(userId)?.deactivatedAt ?? null) !== null;
  }

  /** An operator's write of a user's status, as the admin API makes it. */
  setStatus(userId: string, state: StatusState): void {
    const user = this.db.tables.users.get(userId);
    if (user)
      this.db.tables.users.set(userId, {
        ...user,
        status: state.status,
        statusDecisions: state.decisions,
      });
  }
}

/** A clock that reads `start` plus one more second each time it is read. */
export function ticking(start: number): () => Date {
  let ticks = 0;
  return () => new Date(start + ++ticks * 1000);
}
