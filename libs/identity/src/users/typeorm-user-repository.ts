import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ResolutionError } from '@resolver/reasons';
import { FOLD_EMAIL_SQL } from '@resolver/policy';
import { TypeOrmExternalIdentityTable } from '../external-identities/typeorm-external-identity-table';
import { isDataError, isUniqueViolation, withStoreRetry } from '../store-errors';
import { inTransaction } from '../transaction';
import type { LookupKey, NewUser, UserRecord } from '../user';
import { TypeOrmUserTable } from './typeorm-user-table';
import { type Provisioned, UserRepository } from './user-repository';
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
 * {@link UserRepository} on Postgres through TypeORM. The lookup is raw SQL on TypeORM's driver
 * (see {@link findByKey}); provisioning writes through the same table code as every other
 * writer ({@link TypeOrmUserTable}, {@link TypeOrmExternalIdentityTable}).
 */
export class TypeOrmUserRepository extends UserRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  /**
   * The lookup of every cache miss, as a named prepared statement on TypeORM's own pool (same
   * connections, same statement timeout): Postgres parses and plans it once per connection,
   * and TypeORM's per-query runner is skipped. Both showed in the store scenario's profile:
   * this is the measured hot path of every cache miss, so it stays one prepared statement
   * instead of an entity query.
   */
  async findByKey(key: LookupKey): Promise<UserRecord | null> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    const { rows } = await withStoreRetry(
      () =>
        pool.query<UserRow>({
          ...LOOKUPS[key.strategy],
          values: [key.issuer, key.tenant, key.subject],
        }),
      this.retry,
    );
    return rows.length ? toUserRecord(rows[0] as UserRow) : null;
  }

  /**
   * JIT is the first request of each user, not the hot path: one entity transaction (user, then
   * link), rolled back for a dry run so the store makes every check and keeps nothing.
   */
  async provision(
    key: LookupKey,
    user: NewUser,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<Provisioned> {
    return withStoreRetry(async () => {
      try {
        const created = await inTransaction(this.dataSource, (m) => insertFor(m, key, user), {
          rollback: options.dryRun,
        });
        return { user: created, created: true };
      } catch (error) {
        // A concurrent first request won the race on a unique index: theirs is the user.
        if (isDataError(error) && !isUniqueViolation(error)) {
          throw new ResolutionError(
            'PROVISIONING_REJECTED',
            'the store refused the provisioned user',
            { cause: error },
          );
        }
        if (!isUniqueViolation(error)) throw error;
      }
      const existing = await this.findByKey(key);
      if (!existing) {
        throw new ResolutionError(
          'PROVISIONING_REJECTED',
          "a different user (this issuer's or an operator's) already holds this email or username; link the identity instead",
        );
      }
      return { user: existing, created: false };
    }, this.retry);
  }

  async ping(): Promise<void> {
    await withStoreRetry(() => this.dataSource.query('SELECT 1'), { attempts: 0, backoffMs: 0 });
  }
}

/**
 * Inserts the user (and, for the `external` strategy, its link). A link that exists already
 * means a concurrent request provisioned first: {@link RaceLost} rolls this user back.
 */
async function insertFor(m: EntityManager, key: LookupKey, user: NewUser): Promise<UserRecord> {
  const created = await new TypeOrmUserTable(m).insert(user);
  if (
    key.strategy === 'external' &&
    !(await new TypeOrmExternalIdentityTable(m).insertIfAbsent(created.id, key))
  )
    throw new RaceLost();
  return created;
}

/** Thrown inside the JIT transaction to roll it back when the identity link already exists. */
class RaceLost extends Error {
  readonly code = '23505';
}
