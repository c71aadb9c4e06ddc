/* eslint-disable @typescript-eslint/require-await -- an in-memory fake of an async interface: nothing to await */
import { randomUUID } from 'node:crypto';
import { StoreRefusal } from '../store-errors';
import type { StatusState } from '../user';
import {
  ScimConflict,
  type ScimGroupRow,
  type ScimLinkedUser,
  type ScimListQuery,
  type ScimMember,
  type ScimPage,
  type ScimScope,
  type ScimTransaction,
  type ScimUserColumns,
  type ScimUserRow,
} from './scim-store';
import { matches, sortRows, type Evaluated } from './in-memory-scim-predicate';
import {
  type InMemoryDatabase,
  linkKey,
  memberKey,
  putLink,
  putUser,
  type StoredGroup,
  type StoredScimUser,
  type StoredUser,
  type Tables,
  uuid,
} from '../in-memory-database';
import { project, putGroup, putScimUser } from './in-memory-scim-tables';

/** One transaction over copies of the tables (see InMemoryScimStore.transaction). */
export class InMemoryScimTransaction implements ScimTransaction {
  constructor(
    private readonly t: Tables,
    private readonly db: InMemoryDatabase,
  ) {}

  private now(): Date {
    return this.db.now();
  }

  async insertUser(
    scope: ScimScope,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState,
  ): Promise<string> {
    const { id } = putUser(
      this.t,
      this.db.newUser({
        tenant: scope.tenant,
        namespace: scope.issuer,
        kind: 'user',
        email: user.email,
        username: user.userName,
        displayName: user.displayName,
        status: { status: status.status, decisions: { ...status.decisions } },
        provenance: 'scim',
      }),
      this.db.tick(),
    );
    this.insertScimRow(scope, clientId, id, user, status);
    return id;
  }

  async findUser(scope: ScimScope, id: string): Promise<ScimUserRow | null> {
    const key = uuid(id);
    const row = key === null ? undefined : this.t.scimUsers.get(key);
    return row && !row.deletedAt && row.issuer === scope.issuer && row.tenant === scope.tenant
      ? this.joined(row)
      : null;
  }

  async updateUser(
    id: string,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void> {
    project(this.t, id, user, status);
    const row = this.t.scimUsers.get(id);
    if (!row) return;
    const scimDeactivation = status && status.decisions.scim !== undefined;
    putScimUser(this.t, {
      ...row,
      clientId,
      userName: user.userName,
      externalId: user.externalId,
      resource: structuredClone(user.resource),
      version: row.version + 1,
      updatedAt: this.now(),
      deactivatedAt:
        scimDeactivation === undefined
          ? row.deactivatedAt
          : scimDeactivation
            ? (row.deactivatedAt ?? this.now())
            : null,
    });
  }

  async deleteUser(id: string, clientId: string): Promise<void> {
    const user = this.t.users.get(id);
    if (user) this.t.users.set(id, { ...user, deletedAt: user.deletedAt ?? this.now() });
    const row = this.t.scimUsers.get(id);
    if (row)
      this.t.scimUsers.set(id, {
        ...row,
        clientId,
        deletedAt: this.now(),
        version: row.version + 1,
      });
    for (const m of this.t.members) if (m.endsWith(`\0${id}`)) this.t.members.delete(m);
  }

  async linkSubject(scope: ScimScope, userId: string, subject: string): Promise<void> {
    const key = linkKey(scope.issuer, scope.tenant, subject);
    const held = this.t.links.get(key);
    if (held && held.userId !== userId) {
      const holder = this.t.users.get(held.userId);
      if (holder && !holder.deletedAt) throw new ScimConflict('subject');
    }
    if (!this.t.users.has(userId))
      throw new StoreRefusal('reference', 'external_identities_user_id_fkey');
    putLink(this.t, scope.issuer, scope.tenant, subject, userId, this.now());
    for (const [k, l] of this.t.links)
      if (
        l.userId === userId &&
        l.issuer === scope.issuer &&
        l.tenant === scope.tenant &&
        l.subject !== subject
      )
        this.t.links.delete(k);
  }

  async findLinked(scope: ScimScope, subject: string): Promise<ScimLinkedUser | null> {
    const link = this.t.links.get(linkKey(scope.issuer, scope.tenant, subject));
    const user = link && this.t.users.get(link.userId);
    if (!user || user.deletedAt) return null;
    const elsewhere = [...this.t.links.values()].some(
      (l) => l.userId === user.id && (l.issuer !== scope.issuer || l.tenant !== scope.tenant),
    );
    return {
      userId: user.id,
      kind: user.kind,
      scim: this.t.scimUsers.has(user.id),
      foreign: (user.namespace !== '' && user.namespace !== scope.issuer) || elsewhere,
      status: { status: user.status, decisions: user.statusDecisions },
    };
  }

  async adoptUser(
    scope: ScimScope,
    clientId: string,
    userId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void> {
    project(this.t, userId, user, status, { provenance: 'scim', namespace: scope.issuer });
    this.insertScimRow(scope, clientId, userId, user, status);
  }

  private insertScimRow(
    scope: ScimScope,
    clientId: string,
    userId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): void {
    if (this.t.scimUsers.has(userId)) throw new StoreRefusal('unique', 'scim_users_pkey');
    const at = this.now();
    putScimUser(this.t, {
      userId,
      clientId,
      issuer: scope.issuer,
      tenant: scope.tenant,
      userName: user.userName,
      externalId: user.externalId,
      resource: structuredClone(user.resource),
      version: 1,
      createdAt: at,
      updatedAt: at,
      deactivatedAt: status?.decisions.scim !== undefined ? at : null,
      deletedAt: null,
    });
  }

  async listUsers(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimUserRow>> {
    const rows = [...this.t.scimUsers.values()]
      .filter((r) => !r.deletedAt && r.issuer === scope.issuer && r.tenant === scope.tenant)
      .map((r) => this.joined(r));
    return page(rows, query, 'users', (r) => ({
      columns: {
        id: r.userId,
        userName: r.userName,
        externalId: r.externalId,
        active: r.status === 'active',
        created: r.createdAt,
        lastModified: r.updatedAt,
      },
      resource: r.resource,
      members: [],
    }));
  }

  async groupsOf(userIds: readonly string[]) {
    const out = new Map<string, { id: string; displayName: string }[]>();
    const groups = [...this.t.groups.values()].sort(
      (a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id),
    );
    for (const userId of userIds)
      for (const g of groups)
        if (this.t.members.has(memberKey(g.id, userId)))
          out.set(userId, [...(out.get(userId) ?? []), { id: g.id, displayName: g.displayName }]);
    return out;
  }

  async setRoles(userId: string, roles: readonly string[]): Promise<void> {
    const user = this.t.users.get(userId);
    if (user && user.roles.join('\0') !== roles.join('\0'))
      this.t.users.set(userId, { ...user, roles: [...roles] });
  }

  async insertGroup(
    scope: ScimScope,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<string> {
    const at = this.now();
    const id = randomUUID();
    putGroup(this.t, {
      id,
      clientId,
      issuer: scope.issuer,
      tenant: scope.tenant,
      displayName,
      externalId,
      version: 1,
      createdAt: at,
      updatedAt: at,
    });
    return id;
  }

  async findGroup(scope: ScimScope, id: string): Promise<ScimGroupRow | null> {
    const key = uuid(id);
    const g = key === null ? undefined : this.t.groups.get(key);
    return g && g.issuer === scope.issuer && g.tenant === scope.tenant ? groupRow(g) : null;
  }

  async updateGroup(
    id: string,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<void> {
    const g = this.t.groups.get(id);
    if (g)
      putGroup(this.t, {
        ...g,
        clientId,
        displayName,
        externalId,
        version: g.version + 1,
        updatedAt: this.now(),
      });
  }

  async deleteGroup(id: string): Promise<void> {
    this.t.groups.delete(id);
    for (const m of this.t.members) if (m.startsWith(`${id}\0`)) this.t.members.delete(m);
  }

  async listGroups(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimGroupRow>> {
    const rows = [...this.t.groups.values()].filter(
      (g) => g.issuer === scope.issuer && g.tenant === scope.tenant,
    );
    const paged = page(rows, query, 'groups', (g) => ({
      columns: {
        id: g.id,
        externalId: g.externalId,
        displayName: g.displayName,
        created: g.createdAt,
        lastModified: g.updatedAt,
      },
      resource: {},
      members: [...this.t.members].filter((m) => m.startsWith(`${g.id}\0`)).map(memberOf),
    }));
    return { total: paged.total, rows: paged.rows.map(groupRow) };
  }

  async members(groupIds: readonly string[]): Promise<Map<string, ScimMember[]>> {
    const out = new Map<string, ScimMember[]>();
    for (const groupId of groupIds) {
      const users = [...this.t.members]
        .filter((m) => m.startsWith(`${groupId}\0`))
        .map((m) => this.t.users.get(memberOf(m)) as StoredUser)
        .sort(
          (a, b) => (a.username ?? '').localeCompare(b.username ?? '') || a.id.localeCompare(b.id),
        );
      if (users.length)
        out.set(
          groupId,
          users.map((u) => ({ userId: u.id, display: u.displayName ?? u.username ?? '' })),
        );
    }
    return out;
  }

  async liveUsers(scope: ScimScope, userIds: readonly string[]): Promise<Set<string>> {
    const live = new Set<string>();
    for (const id of userIds) {
      const key = uuid(id);
      const row = key === null ? undefined : this.t.scimUsers.get(key);
      if (row && !row.deletedAt && row.issuer === scope.issuer && row.tenant === scope.tenant)
        live.add(row.userId);
    }
    return live;
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) {
      if (!this.t.groups.has(groupId) || !this.t.users.has(userId))
        throw new StoreRefusal('reference', 'scim_group_members_user_id_fkey');
      this.t.members.add(memberKey(groupId, userId));
    }
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) this.t.members.delete(memberKey(groupId, userId));
  }

  /** The SCIM row with what `users` decides (status), as the store's join reads it. */
  private joined(row: StoredScimUser): ScimUserRow {
    const user = this.t.users.get(row.userId) as StoredUser;
    return {
      userId: row.userId,
      clientId: row.clientId,
      userName: row.userName,
      externalId: row.externalId,
      resource: structuredClone(row.resource),
      version: row.version,
      status: user.status,
      statusDecisions: user.statusDecisions,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}

const memberOf = (m: string) => m.slice(m.indexOf('\0') + 1);

function groupRow({ issuer: _i, tenant: _t, ...row }: StoredGroup): ScimGroupRow {
  return row;
}

/** Filters, counts, sorts and pages as the store's statements do (1-based startIndex). */
function page<R extends { createdAt: Date }>(
  rows: R[],
  query: ScimListQuery,
  table: 'users' | 'groups',
  evaluated: (row: R) => Evaluated,
): ScimPage<R> {
  const matching = rows.filter((r) => !query.filter || matches(query.filter, evaluated(r), table));
  const total = matching.length;
  if (query.count === 0 || total < query.startIndex) return { total, rows: [] };
  return {
    total,
    rows: sortRows(matching, query.sort, evaluated).slice(
      query.startIndex - 1,
      query.startIndex - 1 + query.count,
    ),
  };
}
