import type { Pool, QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ResolutionError } from '@resolver/reasons';
import { FOLD_EMAIL_SQL } from '../canonical-identifier';
import { PoolGate } from '../pool-gate';
import { isDataError, isUniqueViolation, withStoreRetry } from '../store-errors';
import type { LookupKey, NewUser, UserRecord } from '../user';
import { type Provisioned, type StoreCallOptions, UserRepository } from './user-repository';
import { toUserRecord, USER_COLUMNS, type UserRow } from './user-row';

/**
 * One parameterised statement per lookup strategy, each backed by its own index. Soft-deleted
 * users are returned (so the answer can be USER_DELETED rather than USER_NOT_FOUND); a live user
 * wins over a deleted one with the same email or username. Email and username are searched in
 * the token issuer's namespace and the operator's (`''`), the issuer's own user first: another
 * issuer's users (its SCIM client's, its JIT's) are never found.
 */
const LOOKUP_SQL: Readonly<Record<LookupKey['strategy'], string>> = {
  external: `SELECT ${USER_COLUMNS} FROM external_identities e JOIN users u ON u.id = e.user_id
    WHERE e.issuer = $1 AND e.tenant = $2 AND e.subject = $3`,
  id: `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $3::uuid AND u.tenant = $2 AND $1::text IS NOT NULL`,
  // $3 is already folded (foldEmail); the expression matches users_tenant_email_fold_idx.
  email: `SELECT ${USER_COLUMNS} FROM users u WHERE u.tenant = $2 AND ${FOLD_EMAIL_SQL('u.email')} = $3
    AND email IS NOT NULL AND u.namespace IN ($1, '')
    ORDER BY (u.deleted_at IS NULL) DESC, (u.namespace = $1) DESC, u.created_at DESC LIMIT 1`,
  username: `SELECT ${USER_COLUMNS} FROM users u WHERE u.tenant = $2 AND u.username = $3
    AND username IS NOT NULL AND u.namespace IN ($1, '')
    ORDER BY (u.deleted_at IS NULL) DESC, (u.namespace = $1) DESC, u.created_at DESC LIMIT 1`,
};

/** Each lookup as a named statement (the name is what lets pg prepare it once per connection). */
const LOOKUPS = Object.fromEntries(
  Object.entries(LOOKUP_SQL).map(([strategy, text]) => [
    strategy,
    { name: `resolver_lookup_${strategy}`, text },
  ]),
) as Readonly<Record<LookupKey['strategy'], { readonly name: string; readonly text: string }>>;

/**
 * JIT in one round trip: `resolver_jit_provision` (migration 1765152000000) inserts the link and
 * the user, or returns the user a concurrent request created, in one call. `created` and the
 * user's columns come back as one row.
 */
const PROVISION = {
  name: 'resolver_jit_provision',
  text: `SELECT p.created, (p.provisioned).* FROM resolver_jit_provision(
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) p`,
};

/**
 * {@link UserRepository} on Postgres through TypeORM. The resolve path (lookup and JIT) runs raw
 * statements on TypeORM's own pool through a {@link PoolGate}: bounded waits for a connection,
 * overload told apart from an outage, nothing started past the request's deadline. Admin,
 * import and SCIM writes go through the entity tables (`TypeOrmUserTable`).
 */
export class TypeOrmUserRepository extends UserRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  private get gate(): PoolGate {
    return PoolGate.of((this.dataSource.driver as PostgresDriver).master as Pool);
  }

  /**
   * The lookup of every cache miss, as a named prepared statement on TypeORM's own pool (same
   * connections, same statement timeout): Postgres parses and plans it once per connection,
   * and TypeORM's per-query runner is skipped. Both showed in the store scenario's profile:
   * this is the measured hot path of every cache miss, so it stays one prepared statement
   * instead of an entity query.
   */
  async findByKey(key: LookupKey, options: StoreCallOptions = {}): Promise<UserRecord | null> {
    const { rows } = await withStoreRetry(
      () =>
        this.gate.query<UserRow>(
          { ...LOOKUPS[key.strategy], values: [key.issuer, key.tenant, key.subject] },
          options.deadlineAt,
        ),
      this.retry,
      options.deadlineAt,
    );
    return rows.length ? toUserRecord(rows[0] as UserRow) : null;
  }

  /**
   * JIT: one call of `resolver_jit_provision` (one round trip, one statement's worth of
   * connection time), which creates the user and its link or returns the user a concurrent
   * request created first. Not the entity transaction the admin writes use: a burst of first
   * logins is many of these at once, and a transaction of several statements held a pool
   * connection for several round trips each, which is what exhausted the pool (issue 24).
   *
   * A unique violation means a different user holds the email or username (this issuer's, or an
   * operator's through the trigger): the lookup then says whether the key has a user after all
   * (an operator's user created meanwhile), else PROVISIONING_REJECTED, never "not found".
   *
   * Past the deadline nothing is started, and the call's lock waits end at the deadline; a write
   * that still commits in the instant after it is the whole user and link, which is exactly what
   * the client's retry finds (and takes, as `created: false`).
   *
   * `dryRun`: the same call in a transaction that is rolled back (diagnosis).
   */
  async provision(
    key: LookupKey,
    user: NewUser,
    options: StoreCallOptions & { readonly dryRun?: boolean } = {},
  ): Promise<Provisioned> {
    if (key.strategy === 'id')
      throw new ResolutionError('PROVISIONING_REJECTED', 'JIT cannot provision a user by id');
    return withStoreRetry(
      async () => {
        try {
          const provisioned = await this.provisionCall(key, user, options);
          if (provisioned) return provisioned;
        } catch (error) {
          if (isDataError(error) && !isUniqueViolation(error)) {
            throw new ResolutionError(
              'PROVISIONING_REJECTED',
              'the store refused the provisioned user',
              { cause: error },
            );
          }
          if (!isUniqueViolation(error)) throw error;
        }
        // A unique violation, or the row that blocked the insert was gone when it was read.
        const existing = await this.findByKey(key, options);
        if (!existing) {
          throw new ResolutionError(
            'PROVISIONING_REJECTED',
            "a different user (this issuer's or an operator's) already holds this email or username; link the identity instead",
          );
        }
        return { user: existing, created: false };
      },
      this.retry,
      options.deadlineAt,
    );
  }

  /** One call of `resolver_jit_provision`; `undefined` when it returned no user. */
  private provisionCall(
    key: LookupKey,
    user: NewUser,
    options: StoreCallOptions & { readonly dryRun?: boolean },
  ): Promise<Provisioned | undefined> {
    const { deadlineAt, dryRun } = options;
    const status = user.status ?? { status: 'active', decisions: {} };
    const statement = () => ({
      ...PROVISION,
      values: [
        key.strategy,
        key.issuer,
        key.tenant,
        key.subject,
        user.namespace ?? '',
        user.kind,
        user.email ?? null,
        user.username ?? null,
        user.displayName ?? null,
        [...(user.roles ?? [])],
        JSON.stringify(user.attributes ?? {}),
        status.status,
        JSON.stringify(status.decisions),
        user.provenance,
        // Lock waits end with the time the request has left.
        deadlineAt === undefined ? null : Math.max(1, Math.floor(deadlineAt - Date.now())),
      ],
    });
    return this.gate.withClient(async (client) => {
      if (!dryRun) return provisionedOf(await client.query<ProvisionRow>(statement()));
      await client.query('BEGIN');
      try {
        return provisionedOf(await client.query<ProvisionRow>(statement()));
      } finally {
        await client.query('ROLLBACK');
      }
    }, deadlineAt);
  }

  override busySince(sinceMs: number): boolean {
    return this.gate.busySince(sinceMs);
  }

  override answeredSince(sinceMs: number): boolean {
    return this.gate.answeredSince(sinceMs);
  }

  async ping(): Promise<void> {
    await withStoreRetry(() => this.dataSource.query('SELECT 1'), { attempts: 0, backoffMs: 0 });
  }
}

type ProvisionRow = UserRow & { created: boolean };

function provisionedOf(result: QueryResult<ProvisionRow>): Provisioned | undefined {
  const row = result.rows[0];
  return row ? { user: toUserRecord(row), created: row.created } : undefined;
}
