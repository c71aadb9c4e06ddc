import type { ScimClientConfig, ScimConfig } from '@resolver/config';
import { type ScimGroupRow, ScimStore, type ScimTransaction } from '@resolver/identity';
import { applyPatch, checkPatchBody } from './patch';
import { validateResource } from './resource-input';
import { groupEtag, groupResource } from './resource-output';
import type { ScimCaller } from './scim-client';
import { ScimError } from './scim-error';
import { LIST_SCHEMA } from './scim-schemas';
import { checkIfMatch, listQuery, type ScimListRequest, type ScimWritten } from './scim-users';

interface GroupInput {
  readonly displayName: string;
  readonly externalId: string | null;
  readonly members: string[];
}

/**
 * The roles a user gets from its groups: the union of `groupRoles` entries matching each group's
 * displayName (case-insensitive) or id.
 */
export function rolesFor(
  client: ScimClientConfig,
  groups: readonly { id: string; displayName: string }[],
): string[] {
  const byKey = new Map<string, readonly string[]>();
  for (const [key, roles] of Object.entries(client.groupRoles)) byKey.set(key.toLowerCase(), roles);
  const roles = new Set<string>();
  for (const g of groups) {
    for (const r of byKey.get(g.displayName.toLowerCase()) ?? []) roles.add(r);
    for (const r of byKey.get(g.id.toLowerCase()) ?? []) roles.add(r);
  }
  return [...roles].sort();
}

/**
 * SCIM Groups for one client. Members are the client's own live users; every change of
 * membership or of a group's name recomputes the affected users' roles in the same transaction
 * (a `users` write, so every replica's cache drops them through the NOTIFY trigger).
 */
export class ScimGroups {
  constructor(
    private readonly store: ScimStore,
    private readonly config: ScimConfig,
  ) {}

  create(caller: ScimCaller, body: unknown): Promise<ScimWritten> {
    const input = this.validate(body);
    return this.store.transaction(async (tx) => {
      const { client } = caller;
      await this.checkMembers(tx, caller, input.members);
      const id = await tx.insertGroup(client, client.id, input.displayName, input.externalId);
      await tx.addMembers(id, input.members);
      await this.recomputeRoles(tx, client, input.members);
      return this.written(tx, caller, id);
    });
  }

  get(caller: ScimCaller, id: string): Promise<ScimWritten> {
    return this.store.transaction((tx) => this.written(tx, caller, id));
  }

  replace(caller: ScimCaller, id: string, body: unknown, ifMatch?: string): Promise<ScimWritten> {
    const input = this.validate(body);
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, groupEtag(row));
      return this.save(tx, caller, row, input);
    });
  }

  patch(caller: ScimCaller, id: string, body: unknown, ifMatch?: string): Promise<ScimWritten> {
    const ops = checkPatchBody(body, this.config.maxOperations);
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, groupEtag(row));
      const members = (await tx.members([row.id])).get(row.id) ?? [];
      const current = groupResource(row, members, caller.baseUrl);
      current.members = members.map((m) => ({ value: m.userId }));
      return this.save(tx, caller, row, this.validate(applyPatch(current, ops, 'Group')));
    });
  }

  delete(caller: ScimCaller, id: string, ifMatch?: string): Promise<void> {
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, groupEtag(row));
      const members = ((await tx.members([row.id])).get(row.id) ?? []).map((m) => m.userId);
      await tx.deleteGroup(row.id);
      await this.recomputeRoles(tx, caller.client, members);
    });
  }

  list(caller: ScimCaller, request: ScimListRequest): Promise<Record<string, unknown>> {
    const query = listQuery(request, 'Group', this.config);
    return this.store.transaction(async (tx) => {
      const page = await tx.listGroups(caller.client, query);
      const members = await tx.members(page.rows.map((r) => r.id));
      return {
        schemas: [LIST_SCHEMA],
        totalResults: page.total,
        startIndex: query.startIndex,
        itemsPerPage: page.rows.length,
        Resources: page.rows.map((r) => groupResource(r, members.get(r.id) ?? [], caller.baseUrl)),
      };
    });
  }

  private validate(body: unknown): GroupInput {
    const { attributes } = validateResource(body, 'Group', {
      maxValues: this.config.maxMembersPerGroup,
    });
    const raw = (attributes.members as { value?: string; type?: string }[] | undefined) ?? [];
    const members = raw.map((m, i) => {
      if (typeof m.value !== 'string' || m.value === '')
        throw ScimError.invalid('invalidValue', `members[${i}].value: required, a user id`);
      if (m.type !== undefined && m.type.toLowerCase() !== 'user')
        throw ScimError.invalid(
          'invalidValue',
          `members[${i}].type: only User members are supported (no nested groups)`,
        );
      return m.value;
    });
    return {
      displayName: attributes.displayName as string,
      externalId: (attributes.externalId as string | undefined) ?? null,
      members: [...new Set(members)],
    };
  }

  private async checkMembers(
    tx: ScimTransaction,
    caller: ScimCaller,
    ids: string[],
  ): Promise<void> {
    const live = await tx.liveUsers(caller.client, ids);
    const missing = ids.find((id) => !live.has(id));
    if (missing !== undefined)
      throw ScimError.invalid('invalidValue', `members: no User ${missing} for this client`);
  }

  private async locked(tx: ScimTransaction, caller: ScimCaller, id: string): Promise<ScimGroupRow> {
    const row = await tx.findGroup(caller.client, id, true);
    if (!row) throw ScimError.notFound(`no Group ${id}`);
    return row;
  }

  private async save(
    tx: ScimTransaction,
    caller: ScimCaller,
    row: ScimGroupRow,
    input: GroupInput,
  ): Promise<ScimWritten> {
    const before = ((await tx.members([row.id])).get(row.id) ?? []).map((m) => m.userId);
    const after = new Set(input.members);
    const added = input.members.filter((id) => !before.includes(id));
    const removed = before.filter((id) => !after.has(id));
    await this.checkMembers(tx, caller, added);
    await tx.updateGroup(row.id, caller.client.id, input.displayName, input.externalId);
    await tx.addMembers(row.id, added);
    await tx.removeMembers(row.id, removed);
    // A rename can change which roles the name maps to: recompute every member then.
    const renamed = row.displayName !== input.displayName;
    await this.recomputeRoles(
      tx,
      caller.client,
      renamed ? [...new Set([...before, ...added])] : [...added, ...removed],
    );
    return this.written(tx, caller, row.id);
  }

  private async recomputeRoles(
    tx: ScimTransaction,
    client: ScimClientConfig,
    userIds: readonly string[],
  ): Promise<void> {
    if (!userIds.length) return;
    const groups = await tx.groupsOf(userIds);
    for (const id of userIds) await tx.setRoles(id, rolesFor(client, groups.get(id) ?? []));
  }

  private async written(tx: ScimTransaction, caller: ScimCaller, id: string): Promise<ScimWritten> {
    const row = await tx.findGroup(caller.client, id, false);
    if (!row) throw ScimError.notFound(`no Group ${id}`);
    const members = (await tx.members([row.id])).get(row.id) ?? [];
    return {
      id: row.id,
      etag: groupEtag(row),
      resource: groupResource(row, members, caller.baseUrl),
    };
  }
}
