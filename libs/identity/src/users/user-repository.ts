import type { LookupKey, NewUser, UserRecord } from '../user';

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
 * The user store, as the resolver needs it (lookup and JIT). An abstract class so it can serve
 * as the DI token; TypeORM stays behind it. Writers from outside a token (admin, import) use
 * `IdentityTransactions`. Every method throws `USER_STORE_UNAVAILABLE` (after bounded retries)
 * when the store cannot answer and `USER_STORE_OVERLOADED` when no pool connection came free in
 * time, and returns `null` only when the store answered "no such user".
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
}
