import type { DataSource, EntityManager } from 'typeorm';
import { readDecisions } from '@resolver/policy';
import type { StatusState } from '../user';
import { UUID } from '@resolver/policy';
import { TypeOrmExternalIdentityTable } from '../external-identities/typeorm-external-identity-table';
import { refusalOf, withStoreRetry } from '../store-errors';
import { TypeOrmUserRepository, type UserProjection } from '../users/typeorm-user-repository';
import { renderPredicate, renderSort, type ScimTable } from './render-predicate';
import { SCIM_CONSTRAINT_ATTRIBUTES } from './scim-constraints';
import { type GroupRowSql, toGroup, toUser, type UserRowSql } from './scim-rows';
import {
  ScimConflict,
  type ScimGroupRow,
  type ScimLinkedUser,
  type ScimListQuery,
  type ScimMember,
  type ScimPage,
  type ScimScope,
  ScimStore,
  type ScimTransaction,
  type ScimUserColumns,
  type ScimUserRow,
} from './scim-store';

/*
 * The SCIM reads join `users` for what it decides (status, names): a list filters and sorts on
 * `active` (u.status) in the statement that pages it, and a locked read takes the users row
 * with the SCIM row. Every write of `users` and `external_identities` is the table code's.
 */
const USER_FROM = 'FROM scim_users s JOIN users u ON u.id = s.user_id';
const USER_SELECT = `SELECT s.user_id, s.client_id, s.user_name, s.external_id, s.resource, s.version,
  u.status, u.status_decisions, s.created_at, s.updated_at ${USER_FROM}`;
const GROUP_FROM = 'FROM scim_groups g';
const GROUP_SELECT = `SELECT g.id, g.client_id, g.display_name, g.external_id, g.version, g.created_at,
  g.updated_at ${GROUP_FROM}`;

/** TypeORM answers UPDATE ... RETURNING as [rows, affected]; INSERT/SELECT as rows. */
function rowsOf<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (
    Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : r
  ) as T[];
}

/** The SCIM tables over one TypeORM DataSource; every request in one transaction. */
export class TypeOrmScimStore extends ScimStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  transaction<T>(work: (tx: ScimTransaction) => Promise<T>): Promise<T> {
    return withStoreRetry(async () => {
      try {
        return await this.dataSource.transaction((m) => work(new Tx(m)));
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal?.kind === 'unique')
          throw new ScimConflict(SCIM_CONSTRAINT_ATTRIBUTES[refusal.constraint ?? ''] || 'value');
        throw error;
      }
    }, this.retry);
  }
}

/**
 * One SCIM request's transaction. The `users` and `external_identities` statements are the
 * table code's, on this same EntityManager; only the SCIM tables' SQL is written here.
 */
class Tx implements ScimTransaction {
  private readonly users: TypeOrmUserRepository;
  private readonly identities: TypeOrmExternalIdentityTable;

  constructor(private readonly m: EntityManager) {
    this.users = TypeOrmUserRepository.in(m);
    this.identities = new TypeOrmExternalIdentityTable(m);
  }

  private async q<T>(sql: string, params: unknown[]): Promise<T[]> {
    return rowsOf<T>(await this.m.query(sql, params));
  }

  async insertUser(
    scope: ScimScope,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState,
  ): Promise<string> {
    const { id } = await this.users.insert({
      tenant: scope.tenant,
      namespace: scope.issuer,
      kind: 'user',
      email: user.email,
      username: user.userName,
      displayName: user.displayName,
      status,
      provenance: 'scim',
    });
    await this.insertScimRow(scope, clientId, id, user, status);
    return id;
  }

  async findUser(scope: ScimScope, id: string, lock: boolean): Promise<ScimUserRow | null> {
    if (!UUID.test(id)) return null;
    const [row] = await this.q<UserRowSql>(
      `${USER_SELECT} WHERE s.user_id = $1 AND s.issuer = $2 AND s.tenant = $3 AND s.deleted_at IS NULL${lock ? ' FOR UPDATE OF s, u' : ''}`,
      [id, scope.issuer, scope.tenant],
    );
    return row ? toUser(row) : null;
  }

  async updateUser(
    id: string,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void> {
    await this.users.project(id, projection(user, status));
    await this.q(
      `UPDATE scim_users SET client_id = $2, user_name = $3, external_id = $4, resource = $5,
         version = version + 1, updated_at = now(),
         deactivated_at = CASE WHEN $6::boolean IS NULL THEN deactivated_at
           WHEN $6::boolean THEN COALESCE(deactivated_at, now()) END
       WHERE user_id = $1`,
      [
        id,
        clientId,
        user.userName,
        user.externalId,
        JSON.stringify(user.resource),
        scimDeactivated(status),
      ],
    );
  }

  async deleteUser(id: string, clientId: string): Promise<void> {
    await this.users.softDelete(id);
    await this.q(
      `UPDATE scim_users SET deleted_at = now(), client_id = $2, version = version + 1 WHERE user_id = $1`,
      [id, clientId],
    );
    await this.q(`DELETE FROM scim_group_members WHERE user_id = $1`, [id]);
  }

  async linkSubject(scope: ScimScope, userId: string, subject: string): Promise<void> {
    const key = { issuer: scope.issuer, tenant: scope.tenant, subject };
    const held = await this.identities.lockByKey(key);
    if (held && held.userId !== userId) {
      const holder = await this.users.findById(held.userId);
      if (holder && !holder.deletedAt) throw new ScimConflict('subject');
      await this.identities.repoint(held.id, userId);
    } else if (!held) {
      await this.identities.insert(userId, key);
    }
    await this.identities.deleteOthersInScope(userId, key);
  }

  async findLinked(scope: ScimScope, subject: string): Promise<ScimLinkedUser | null> {
    // A read, like findUser and listUsers: one statement joining the link to its live user,
    // locked so that an adoption decided on this row still holds when it is written.
    const [row] = await this.q<{
      user_id: string;
      kind: 'user' | 'service';
      scim: boolean;
      foreign: boolean;
      status: StatusState['status'];
      status_decisions: unknown;
    }>(
      `SELECT e.user_id, u.kind, u.status, u.status_decisions,
         EXISTS (SELECT 1 FROM scim_users s WHERE s.user_id = u.id) AS scim,
         u.namespace NOT IN ('', $1) OR EXISTS (SELECT 1 FROM external_identities x
           WHERE x.user_id = u.id AND (x.issuer <> $1 OR x.tenant <> $2)) AS foreign
       FROM external_identities e JOIN users u ON u.id = e.user_id
       WHERE e.issuer = $1 AND e.tenant = $2 AND e.subject = $3 AND u.deleted_at IS NULL
       FOR UPDATE OF u`,
      [scope.issuer, scope.tenant, subject],
    );
    return row
      ? {
          userId: row.user_id,
          kind: row.kind,
          scim: row.scim,
          foreign: row.foreign,
          status: { status: row.status, decisions: readDecisions(row.status_decisions) },
        }
      : null;
  }

  async adoptUser(
    scope: ScimScope,
    clientId: string,
    userId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void> {
    await this.users.project(userId, {
      ...projection(user, status),
      takeOver: { provenance: 'scim', namespace: scope.issuer },
    });
    await this.insertScimRow(scope, clientId, userId, user, status);
  }

  /** The SCIM row of a user that SCIM creates or adopts. */
  private async insertScimRow(
    scope: ScimScope,
    clientId: string,
    userId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void> {
    await this.q(
      `INSERT INTO scim_users (user_id, client_id, issuer, tenant, user_name, external_id, resource, deactivated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN now() END)`,
      [
        userId,
        clientId,
        scope.issuer,
        scope.tenant,
        user.userName,
        user.externalId,
        JSON.stringify(user.resource),
        scimDeactivated(status) ?? false,
      ],
    );
  }

  listUsers(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimUserRow>> {
    return this.page(
      'users',
      USER_FROM,
      'WHERE s.issuer = $1 AND s.tenant = $2 AND s.deleted_at IS NULL',
      USER_SELECT,
      scope,
      query,
      toUser,
    );
  }

  listGroups(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimGroupRow>> {
    return this.page(
      'groups',
      GROUP_FROM,
      'WHERE g.issuer = $1 AND g.tenant = $2',
      GROUP_SELECT,
      scope,
      query,
      toGroup,
    );
  }

  private async page<R, T>(
    table: ScimTable,
    from: string,
    scoped: string,
    select: string,
    scope: ScimScope,
    query: ScimListQuery,
    map: (r: R) => T,
  ): Promise<ScimPage<T>> {
    const params: unknown[] = [scope.issuer, scope.tenant];
    const where = `${scoped}${query.filter ? ` AND ${renderPredicate(query.filter, table, params)}` : ''}`;
    const [counted] = await this.q<{ n: string }>(`SELECT count(*) AS n ${from} ${where}`, params);
    const total = Number(counted?.n ?? 0);
    if (query.count === 0 || total < query.startIndex) return { total, rows: [] };
    const order = renderSort(query.sort, table, params);
    params.push(query.startIndex - 1, query.count);
    const rows = await this.q<R>(
      `${select} ${where} ORDER BY ${order} OFFSET $${params.length - 1} LIMIT $${params.length}`,
      params,
    );
    return { total, rows: rows.map(map) };
  }

  async groupsOf(
    userIds: readonly string[],
  ): Promise<Map<string, { id: string; displayName: string }[]>> {
    const out = new Map<string, { id: string; displayName: string }[]>();
    if (!userIds.length) return out;
    const rows = await this.q<{ user_id: string; id: string; display_name: string }>(
      `SELECT m.user_id, g.id, g.display_name FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id
       WHERE m.user_id = ANY($1::uuid[]) ORDER BY g.display_name, g.id`,
      [userIds],
    );
    for (const r of rows) {
      const list = out.get(r.user_id) ?? [];
      list.push({ id: r.id, displayName: r.display_name });
      out.set(r.user_id, list);
    }
    return out;
  }

  async setRoles(userId: string, roles: readonly string[]): Promise<void> {
    await this.users.setRoles(userId, roles);
  }

  async insertGroup(
    scope: ScimScope,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<string> {
    const [row] = await this.q<{ id: string }>(
      `INSERT INTO scim_groups (client_id, issuer, tenant, display_name, external_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [clientId, scope.issuer, scope.tenant, displayName, externalId],
    );
    return (row as { id: string }).id;
  }

  async findGroup(scope: ScimScope, id: string, lock: boolean): Promise<ScimGroupRow | null> {
    if (!UUID.test(id)) return null;
    const [row] = await this.q<GroupRowSql>(
      `${GROUP_SELECT} WHERE g.id = $1 AND g.issuer = $2 AND g.tenant = $3${lock ? ' FOR UPDATE' : ''}`,
      [id, scope.issuer, scope.tenant],
    );
    return row ? toGroup(row) : null;
  }

  async updateGroup(
    id: string,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<void> {
    await this.q(
      `UPDATE scim_groups SET client_id = $2, display_name = $3, external_id = $4, version = version + 1,
         updated_at = now() WHERE id = $1`,
      [id, clientId, displayName, externalId],
    );
  }

  async deleteGroup(id: string): Promise<void> {
    await this.q(`DELETE FROM scim_groups WHERE id = $1`, [id]);
  }

  async members(groupIds: readonly string[]): Promise<Map<string, ScimMember[]>> {
    const out = new Map<string, ScimMember[]>();
    if (!groupIds.length) return out;
    const rows = await this.q<{ group_id: string; user_id: string; display: string | null }>(
      `SELECT m.group_id, m.user_id, COALESCE(u.display_name, u.username) AS display
       FROM scim_group_members m JOIN users u ON u.id = m.user_id
       WHERE m.group_id = ANY($1::uuid[]) ORDER BY m.group_id, u.username, m.user_id`,
      [groupIds],
    );
    for (const r of rows) {
      const list = out.get(r.group_id) ?? [];
      list.push({ userId: r.user_id, display: r.display ?? '' });
      out.set(r.group_id, list);
    }
    return out;
  }

  async liveUsers(scope: ScimScope, userIds: readonly string[]): Promise<Set<string>> {
    const ids = userIds.filter((id) => UUID.test(id));
    if (!ids.length) return new Set();
    const rows = await this.q<{ user_id: string }>(
      `SELECT s.user_id FROM scim_users s WHERE s.issuer = $1 AND s.tenant = $2 AND s.deleted_at IS NULL
       AND s.user_id = ANY($3::uuid[])`,
      [scope.issuer, scope.tenant, ids],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    if (!userIds.length) return;
    await this.q(
      `INSERT INTO scim_group_members (group_id, user_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [groupId, userIds],
    );
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    if (!userIds.length) return;
    await this.q(
      `DELETE FROM scim_group_members WHERE group_id = $1 AND user_id = ANY($2::uuid[])`,
      [groupId, userIds],
    );
  }
}

/** What SCIM sets on the user's `users` row. */
function projection(user: ScimUserColumns, status: StatusState | undefined): UserProjection {
  return {
    email: user.email,
    username: user.userName,
    displayName: user.displayName,
    ...(status && { status }),
  };
}

/** Whether SCIM's own deactivation stands in `status` (`undefined`: no status was decided). */
function scimDeactivated(status: StatusState | undefined): boolean | undefined {
  return status && status.decisions.scim !== undefined;
}
