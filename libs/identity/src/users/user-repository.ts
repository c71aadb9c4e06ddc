import type { SignalState } from '@resolver/policy';
import type { LookupKey, NewUser, Provenance, StatusState, UserRecord, UserStatus } from '../user';

/** The result of a JIT provisioning attempt. */
export interface Provisioned {
  readonly user: UserRecord;
  /** False when a concurrent request (or an earlier one) created the user first. */
  readonly created: boolean;
}

/** What a store call of the resolve path knows of its request. */
export interface StoreCallOptions {
  /**
   * When the caller stops waiting (epoch ms): no statement is started after it, a wait for a
   * pool connection or a lock ends by then, and no retry begins past it.
   */
  readonly deadlineAt?: number;
}

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

/** One page of a {@link UserRepository.list}. */
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
 * The `users` table's one repository: an abstract class so it serves as the DI token, with
 * TypeORM behind it (`TypeOrmUserRepository`) and one in-memory fake over the same rules
 * (`InMemoryUserRepository`). The resolver holds the pooled instance: its lookups and JIT run
 * as single statements on the pool, bounded by the request's deadline. A writer's transaction
 * (`IdentityTransactions.run`) gets an instance on that transaction's connection, where every
 * method runs inside the transaction and store refusals end it as a `StoreRefusal`.
 *
 * On the pool, every method throws `USER_STORE_UNAVAILABLE` (after bounded retries) when the
 * store cannot answer and `USER_STORE_OVERLOADED` when no pool connection came free in time,
 * and a lookup returns `null` only when the store answered "no such user".
 */
export abstract class UserRepository {
  /** The user a lookup key points at, soft-deleted ones included; `null` if none. */
  abstract findByKey(key: LookupKey, options?: StoreCallOptions): Promise<UserRecord | null>;

  /**
   * Creates the user for `key` (and its external identity for the `external` strategy),
   * atomically: never one without the other. If another writer got there first, returns that
   * user with `created: false`. Throws `PROVISIONING_REJECTED` when the store refuses the user (a
   * live user already holds its email or username, a constraint fails).
   *
   * `dryRun`: the same statement in a transaction that is rolled back, so every check the store
   * makes — conflicts included — is made, and nothing is written or announced. Diagnosis uses it
   * to say whether JIT *would* provision.
   */
  abstract provision(
    key: LookupKey,
    user: NewUser,
    options?: StoreCallOptions & { readonly dryRun?: boolean },
  ): Promise<Provisioned>;

  /** True when the store answers a trivial query. */
  abstract ping(): Promise<void>;

  /**
   * True when requests are queued for a store connection now and the store has answered some
   * statement since `sinceMs` (epoch ms): time lost since then went to the queue (overload),
   * not to a store that does not answer. A store without a pool is never busy.
   */
  busySince(_sinceMs: number): boolean {
    return false;
  }

  /** True when the store has answered some statement since `sinceMs` (epoch ms): it is up. */
  answeredSince(_sinceMs: number): boolean {
    return false;
  }

  // The writers' methods (admin, import, SCIM), meant for a transaction's instance. Methods that
  // change a user return it as stored after the change, or `null` when no user has that id.

  /** Inserts a user; the store fills id and timestamps. */
  abstract insert(user: NewUser): Promise<UserRecord>;
  /** The user with this id, soft-deleted or not; `lock` holds a row lock until the end. */
  abstract findById(id: string, options?: { readonly lock?: boolean }): Promise<UserRecord | null>;
  abstract list(filter: UserListFilter): Promise<UserListPage>;
  abstract update(id: string, changes: UserChanges): Promise<UserRecord | null>;
  /** Writes the status and its decisions, as `decideStatus` decided them. */
  abstract setStatus(id: string, state: StatusState): Promise<UserRecord | null>;
  /** Marks the user deleted (keeps the first deletion time). */
  abstract softDelete(id: string): Promise<UserRecord | null>;
  abstract restore(id: string): Promise<UserRecord | null>;
  /**
   * Refuses every token issued up to now: `tokens_valid_after` becomes the next whole second,
   * since `iat` has whole seconds and a token minted in this same second may still be in flight.
   */
  abstract signOutEverywhere(id: string): Promise<UserRecord | null>;
  /**
   * The live users of `tenant` with this email (already folded, see `foldEmail`) or username,
   * row-locked until the end of the transaction: at most two, the operator's namespace first.
   * (Each namespace holds at most one.)
   */
  abstract lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]>;
  /**
   * Writes what a shared signal did (see `applySignal`): the new signal state, and, for a
   * sign-out, `tokens_valid_after` moved forward to `tokensValidAfter` (never back).
   */
  abstract recordSignals(
    id: string,
    signals: SignalState,
    tokensValidAfter?: Date,
  ): Promise<UserRecord | null>;
  /** Merges an import row into the user with this id. */
  abstract merge(id: string, fields: UserMerge): Promise<void>;
}
