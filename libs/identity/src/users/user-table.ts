import type { NewUser, Provenance, StatusState, UserRecord, UserStatus } from '../user';

/**
 * Where a page of users starts: the last row of the previous page. `createdAtMicros` is
 * `created_at` in microseconds since the epoch (as Postgres stores it): a millisecond cursor
 * would repeat rows created in the same millisecond.
 */
export interface UserCursor {
  readonly createdAtMicros: string;
  readonly id: string;
}

/** Which users a list returns, in (created_at, id) order. */
export interface UserListFilter {
  readonly tenant?: string;
  readonly status?: UserStatus;
  /** Compared without letter case. */
  readonly email?: string;
  readonly provenance?: Provenance;
  /** `false`: live users only; `true`: soft-deleted ones only. */
  readonly deleted: 'true' | 'false' | 'all';
  readonly after?: UserCursor;
  readonly limit: number;
}

/** A live user holding an email or username, and the namespace it holds it in. */
export interface LiveHolder {
  readonly id: string;
  readonly namespace: string;
}

/** One page of a {@link UserTable.list}. */
export interface UserListPage {
  readonly users: UserRecord[];
  /** Present when more rows follow. */
  readonly next?: UserCursor;
}

/** Columns an operator may change; `undefined` leaves a column as it is, `null` clears it. */
export interface UserChanges {
  readonly email?: string | null;
  readonly username?: string | null;
  readonly displayName?: string | null;
  readonly roles?: readonly string[];
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** What an import row merges into an existing user. */
export interface UserMerge {
  /** Absent fields keep the stored value. */
  readonly email?: string;
  readonly username?: string;
  readonly displayName?: string;
  /** As `decideStatus` decided it for the import; absent: the status stays. */
  readonly status?: StatusState;
  /** Replaces the stored roles. */
  readonly roles: readonly string[];
  /** Merged over the stored attributes (top-level keys replaced). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * The `users` table inside one transaction (see `IdentityTransactions`). Methods that change a
 * user return it as stored after the change, or `null` when no user has that id. Store refusals
 * (a unique index, a check) surface from the transaction as `StoreRefusal`.
 */
export interface UserTable {
  /** Inserts a user; the store fills id and timestamps. */
  insert(user: NewUser): Promise<UserRecord>;
  /** The user with this id, soft-deleted or not; `lock` holds a row lock until the end. */
  findById(id: string, options?: { readonly lock?: boolean }): Promise<UserRecord | null>;
  list(filter: UserListFilter): Promise<UserListPage>;
  update(id: string, changes: UserChanges): Promise<UserRecord | null>;
  /** Writes the status and its decisions, as `decideStatus` decided them. */
  setStatus(id: string, state: StatusState): Promise<UserRecord | null>;
  /** Marks the user deleted (keeps the first deletion time). */
  softDelete(id: string): Promise<UserRecord | null>;
  restore(id: string): Promise<UserRecord | null>;
  /**
   * Refuses every token issued up to now: `tokens_valid_after` becomes the next whole second,
   * since `iat` has whole seconds and a token minted in this same second may still be in flight.
   */
  signOutEverywhere(id: string): Promise<UserRecord | null>;
  /**
   * The live users of `tenant` with this email (already folded, see `foldEmail`) or username,
   * row-locked until the end of the transaction: at most two, the operator's namespace first.
   * (Each namespace holds at most one.)
   */
  lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]>;
  /** Merges an import row into the user with this id. */
  merge(id: string, fields: UserMerge): Promise<void>;
}
