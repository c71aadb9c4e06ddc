import {
  foldEmail,
  type PrincipalKind,
  type Provenance,
  type ScimGroupRow,
  type ScimUserColumns,
  type StatusState,
  StoreRefusal,
  UUID,
} from '@resolver/identity';

/*
 * The rows of the in-memory SCIM store (see InMemoryScimStore) and the rules the Postgres
 * tables hold them to, each refused under its Postgres constraint name.
 */

/** The `users` columns the SCIM store reads and writes. */
export interface FakeUser {
  readonly id: string;
  readonly tenant: string;
  /** Whose identifiers these are: an issuer, or `''` (the operator's, overlapping every other). */
  readonly namespace: string;
  readonly kind: PrincipalKind;
  readonly email: string | null;
  readonly username: string | null;
  readonly displayName: string | null;
  readonly roles: readonly string[];
  readonly status: StatusState['status'];
  readonly statusDecisions: StatusState['decisions'];
  readonly provenance: Provenance;
  readonly deletedAt: Date | null;
}

export interface Link {
  readonly issuer: string;
  readonly tenant: string;
  readonly subject: string;
  readonly userId: string;
}

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

export interface StoredGroup extends ScimGroupRow {
  readonly issuer: string;
  readonly tenant: string;
}

/** Every table, as plain maps of immutable rows (a transaction copies the maps). */
export interface ScimTables {
  users: Map<string, FakeUser>;
  /** `issuer \0 tenant \0 subject` -> link. */
  links: Map<string, Link>;
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

/** The identifiers of a user that the users table holds unique. */
type Identifiers = Pick<
  FakeUser,
  'id' | 'tenant' | 'namespace' | 'email' | 'username' | 'deletedAt'
>;

/**
 * Refuses `user` (under the Postgres constraint's name) when a live user of an overlapping
 * namespace and its tenant holds its email or username: one namespace is a unique index, the
 * operator's ('') against any other is a trigger. Both in-memory user tables hold to it.
 */
export function refuseTakenIdentifiers(users: Iterable<Identifiers>, user: Identifiers): void {
  if (user.deletedAt) return;
  for (const other of users) {
    if (other.id === user.id || other.deletedAt || other.tenant !== user.tenant) continue;
    const same = other.namespace === user.namespace;
    if (!same && other.namespace !== '' && user.namespace !== '') continue;
    if (
      user.email !== null &&
      other.email !== null &&
      foldEmail(other.email) === foldEmail(user.email)
    )
      throw new StoreRefusal(
        'unique',
        same ? 'users_namespace_email_live_key' : 'users_operator_email_key',
      );
    if (user.username !== null && other.username === user.username)
      throw new StoreRefusal(
        'unique',
        same ? 'users_namespace_username_live_key' : 'users_operator_username_key',
      );
  }
}

/** Stores the user unless refuseTakenIdentifiers refuses it. */
export function putUser(t: ScimTables, user: FakeUser): void {
  refuseTakenIdentifiers(t.users.values(), user);
  t.users.set(user.id, user);
}

export function putScimUser(t: ScimTables, row: StoredScimUser): void {
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

export function putGroup(t: ScimTables, group: StoredGroup): void {
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
  t: ScimTables,
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
