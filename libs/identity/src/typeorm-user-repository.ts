import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ResolutionError } from '@resolver/reasons';
import { FOLD_EMAIL_SQL } from './canonical-identifier';
import { isDataError, isUniqueViolation, withStoreRetry } from './store-errors';
import type { LookupKey, NewUser, UserRecord } from './user';
import { type Provisioned, UserRepository } from './user-repository';
import { toUserRecord, USER_COLUMNS, type UserRow } from './user-row';

/**
 * One parameterised statement per lookup strategy, each backed by its own index. Soft-deleted
 * users are returned (so the answer can be USER_DELETED rather than USER_NOT_FOUND); a live user
 * wins over a deleted one with the same email or username.
 */
const LOOKUP_SQL: Readonly<Record<LookupKey['strategy'], string>> = {
  external: `SELECT ${USER_COLUMNS} FROM external_identities e JOIN users u ON u.id = e.user_id
    WHERE e.issuer = $1 AND e.tenant = $2 AND e.subject = $3`,
  id: `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $3::uuid AND u.tenant = $2 AND $1::text IS NOT NULL`,
  // $3 is already folded (foldEmail); the expression matches users_tenant_email_fold_idx.
  email: `SELECT ${USER_COLUMNS} FROM users u WHERE u.tenant = $2 AND ${FOLD_EMAIL_SQL('u.email')} = $3
    AND email IS NOT NULL AND $1::text IS NOT NULL ORDER BY (u.deleted_at IS NULL) DESC, u.created_at DESC LIMIT 1`,
  username: `SELECT ${USER_COLUMNS} FROM users u WHERE u.tenant = $2 AND u.username = $3
    AND username IS NOT NULL AND $1::text IS NOT NULL ORDER BY (u.deleted_at IS NULL) DESC, u.created_at DESC LIMIT 1`,
};

/** Each lookup as a named statement (the name is what lets pg prepare it once per connection). */
const LOOKUPS = Object.fromEntries(
  Object.entries(LOOKUP_SQL).map(([strategy, text]) => [
    strategy,
    { name: `resolver_lookup_${strategy}`, text },
  ]),
) as Readonly<Record<LookupKey['strategy'], { readonly name: string; readonly text: string }>>;

const INSERT_USER = `INSERT INTO users AS u (tenant, kind, email, username, display_name, roles, attributes, status, provenance)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${USER_COLUMNS}`;

/** {@link UserRepository} on Postgres through TypeORM. */
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
   * and TypeORM's per-query runner is skipped. Both showed in the store scenario's profile.
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

  async provision(
    key: LookupKey,
    user: NewUser,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<Provisioned> {
    return withStoreRetry(async () => {
      try {
        const created = await this.dataSource.transaction(async (m) => {
          const inserted = await this.insertFor(m, key, user);
          if (options.dryRun && inserted) throw new DryRun(inserted);
          return inserted;
        });
        if (created) return { user: created, created: true };
      } catch (error) {
        if (error instanceof DryRun) return { user: error.user, created: true };
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
          'a different user already holds this email or username; link the identity instead',
        );
      }
      return { user: existing, created: false };
    }, this.retry);
  }

  /** Inserts the user (and link); returns null when the link already existed (rolled back). */
  private async insertFor(
    m: EntityManager,
    key: LookupKey,
    user: NewUser,
  ): Promise<UserRecord | null> {
    const [row] = await m.query<UserRow[]>(INSERT_USER, insertParams(user));
    const created = toUserRecord(row as UserRow);
    if (key.strategy === 'external') {
      const linked = await m.query<unknown[]>(
        `INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (issuer, tenant, subject) DO NOTHING RETURNING id`,
        [key.issuer, key.tenant, key.subject, created.id],
      );
      if (linked.length === 0) throw new RaceLost();
    }
    return created;
  }

  async create(user: NewUser): Promise<UserRecord> {
    const [row] = await withStoreRetry(
      () => this.dataSource.query<UserRow[]>(INSERT_USER, insertParams(user)),
      this.retry,
    );
    return toUserRecord(row as UserRow);
  }

  async link(
    userId: string,
    identity: { issuer: string; tenant: string; subject: string },
  ): Promise<void> {
    await withStoreRetry(
      () =>
        this.dataSource.query(
          `INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)`,
          [identity.issuer, identity.tenant, identity.subject, userId],
        ),
      this.retry,
    );
  }

  async ping(): Promise<void> {
    await withStoreRetry(() => this.dataSource.query('SELECT 1'), { attempts: 0, backoffMs: 0 });
  }
}

/** Thrown inside a dry-run transaction to roll it back with what it would have created. */
class DryRun extends Error {
  constructor(readonly user: UserRecord) {
    super('dry run');
  }
}

/** Thrown inside the JIT transaction to roll it back when the identity link already exists. */
class RaceLost extends Error {
  readonly code = '23505';
}

function insertParams(user: NewUser): unknown[] {
  return [
    user.tenant,
    user.kind,
    user.email ?? null,
    user.username ?? null,
    user.displayName ?? null,
    [...(user.roles ?? [])],
    JSON.stringify(user.attributes ?? {}),
    user.status ?? 'active',
    user.provenance,
  ];
}
