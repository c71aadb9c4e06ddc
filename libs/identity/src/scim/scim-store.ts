import { DomainError } from '@resolver/reasons';
import type { StatusDecisions, StatusState, UserStatus } from '../user';
import type { ScimPredicate, ScimSort } from './scim-predicate';

/** A SCIM client's scope: the users and groups it owns. */
export interface ScimScope {
  readonly issuer: string;
  readonly tenant: string;
}

/** A provisioned user as the SCIM layer reads it: the stored resource plus what `users` decides. */
export interface ScimUserRow {
  readonly userId: string;
  readonly clientId: string;
  readonly userName: string;
  readonly externalId: string | null;
  /** The SCIM attributes as stored (canonical names; no id, meta, active or groups). */
  readonly resource: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly status: UserStatus;
  /** Which writers' decisions `status` is made of (see `decideStatus`). */
  readonly statusDecisions: StatusDecisions;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A live user that holds a subject of a client's scope (see {@link ScimTransaction.findLinked}). */
export interface ScimLinkedUser {
  readonly userId: string;
  readonly kind: 'user' | 'service';
  /** A SCIM client manages it already. */
  readonly scim: boolean;
  /**
   * It belongs to someone else as well: it is linked to a subject outside the scope (another
   * issuer or tenant), or its identifiers live in another issuer's namespace.
   */
  readonly foreign: boolean;
  readonly status: StatusState;
}

/** The `users` columns a SCIM user is projected onto. */
export interface ScimUserColumns {
  readonly userName: string;
  readonly externalId: string | null;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly email: string | null;
  readonly displayName: string | null;
}

export interface ScimGroupRow {
  readonly id: string;
  readonly clientId: string;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ScimMember {
  readonly userId: string;
  readonly display: string;
}

export interface ScimPage<T> {
  readonly total: number;
  readonly rows: T[];
}

export interface ScimListQuery {
  readonly filter?: ScimPredicate;
  readonly sort?: ScimSort;
  /** 1-based, as in SCIM. */
  readonly startIndex: number;
  /** 0 = count only. */
  readonly count: number;
}

/**
 * One SCIM request's view of the store, inside its transaction. Unique violations surface as
 * {@link ScimConflict}; a filter the store cannot render as {@link UnrenderablePredicate}.
 */
export interface ScimTransaction {
  /** Inserts a user in the scope's issuer's namespace, with the status SCIM was decided to give it. */
  insertUser(
    scope: ScimScope,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState,
  ): Promise<string>;
  /** A live (not deleted) user of the scope; `lock` takes a row lock for the rest of the transaction. */
  findUser(scope: ScimScope, id: string, lock: boolean): Promise<ScimUserRow | null>;
  /**
   * Replaces the SCIM data and the projected columns, and writes `status` as decided (absent:
   * the status stays). `deactivated_at` says whether SCIM's own deactivation stands.
   */
  updateUser(
    id: string,
    clientId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void>;
  /** Soft-deletes the user (and its SCIM row); its group memberships go. Returns the groups it was in. */
  deleteUser(id: string, clientId: string): Promise<void>;
  /**
   * Points (issuer, tenant, subject) at the user, replacing the user's previous subject in this
   * scope. A link held by a deleted user moves; one held by a live user is a conflict.
   */
  linkSubject(scope: ScimScope, userId: string, subject: string): Promise<void>;
  /** The live user holding (issuer, tenant, subject), row-locked; `null` if none. */
  findLinked(scope: ScimScope, subject: string): Promise<ScimLinkedUser | null>;
  /**
   * Takes over a live user created otherwise (JIT, admin, import) that already holds the link:
   * its `users` row gets the SCIM data, provenance `scim` and the scope's issuer's namespace, its
   * status as decided (absent: unchanged), and a SCIM row is added.
   */
  adoptUser(
    scope: ScimScope,
    clientId: string,
    userId: string,
    user: ScimUserColumns,
    status: StatusState | undefined,
  ): Promise<void>;
  listUsers(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimUserRow>>;
  /** Groups each user is in (id + displayName), for the readOnly `groups` attribute and roles. */
  groupsOf(userIds: readonly string[]): Promise<Map<string, { id: string; displayName: string }[]>>;
  /** Sets the user's roles (no write when unchanged). */
  setRoles(userId: string, roles: readonly string[]): Promise<void>;

  insertGroup(
    scope: ScimScope,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<string>;
  findGroup(scope: ScimScope, id: string, lock: boolean): Promise<ScimGroupRow | null>;
  updateGroup(
    id: string,
    clientId: string,
    displayName: string,
    externalId: string | null,
  ): Promise<void>;
  deleteGroup(id: string): Promise<void>;
  listGroups(scope: ScimScope, query: ScimListQuery): Promise<ScimPage<ScimGroupRow>>;
  members(groupIds: readonly string[]): Promise<Map<string, ScimMember[]>>;
  /** Of `userIds`, those that are live users of the scope. */
  liveUsers(scope: ScimScope, userIds: readonly string[]): Promise<Set<string>>;
  addMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  removeMembers(groupId: string, userIds: readonly string[]): Promise<void>;
}

/** A unique index refused the write; `attribute` is the SCIM attribute it protects. */
export class ScimConflict extends DomainError<'uniqueness'> {
  override readonly name = 'ScimConflict';
  constructor(readonly attribute: string) {
    super('uniqueness', `${attribute}: already in use`);
  }
}

/** The SCIM tables, as the provisioning use cases need them. TypeORM stays behind it. */
export abstract class ScimStore {
  /** Runs `work` in one transaction (retried as a whole on store failures). */
  abstract transaction<T>(work: (tx: ScimTransaction) => Promise<T>): Promise<T>;
}

/** What diagnose says about a user's SCIM history. */
export interface ScimProvenance {
  readonly clientId: string;
  readonly provisionedAt: Date;
  readonly deactivatedAt: Date | null;
  readonly deletedAt: Date | null;
}

/** Read-only: which SCIM client provisioned a user, and when it deactivated or deleted it. */
export abstract class ScimProvenanceRepository {
  abstract find(userId: string): Promise<ScimProvenance | null>;
}
