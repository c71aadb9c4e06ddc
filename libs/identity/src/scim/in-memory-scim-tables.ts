import { putUser, type Tables, type StoredScimUser, type StoredGroup } from '../in-memory-database';
import { StoreRefusal } from '../store-errors';
import type { Provenance, StatusState } from '../user';
import type { ScimUserColumns } from './scim-store';

/*
 * The SCIM tables' rules over the in-memory database (see InMemoryScimStore), each refused under
 * its Postgres constraint name. The `users` rules are the database's own (putUser).
 */

export function putScimUser(t: Tables, row: StoredScimUser): void {
  if (!t.users.has(row.userId)) throw new StoreRefusal('reference', 'scim_users_user_id_fkey');
  if (!row.deletedAt)
    for (const other of t.scimUsers.values())
      if (
        other.userId !== row.userId &&
        !other.deletedAt &&
        other.issuer === row.issuer &&
        other.tenant === row.tenant &&
        other.userName.toLowerCase() === row.userName.toLowerCase()
      )
        throw new StoreRefusal('unique', 'scim_users_user_name_live_key');
  t.scimUsers.set(row.userId, row);
}

export function putGroup(t: Tables, group: StoredGroup): void {
  for (const other of t.groups.values())
    if (
      other.id !== group.id &&
      other.issuer === group.issuer &&
      other.tenant === group.tenant &&
      other.displayName.toLowerCase() === group.displayName.toLowerCase()
    )
      throw new StoreRefusal('unique', 'scim_groups_display_name_key');
  t.groups.set(group.id, group);
}

/** What SCIM writes on the `users` row; `takeOver` as in an adoption. */
export function project(
  t: Tables,
  id: string,
  user: ScimUserColumns,
  status: StatusState | undefined,
  takeOver?: { provenance: Provenance; namespace: string },
): void {
  const current = t.users.get(id);
  if (!current) return;
  putUser(t, {
    ...current,
    email: user.email,
    username: user.userName,
    displayName: user.displayName,
    ...(takeOver ?? {}),
    ...(status && { status: status.status, statusDecisions: { ...status.decisions } }),
  });
}
