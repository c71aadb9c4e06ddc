import type { Pool } from 'pg';
import type { DataSource, EntityManager, UpdateQueryBuilder } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { FOLD_EMAIL_SQL } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import { UserEntity } from '../entities/user.entity';
import { PoolGate } from '../pool-gate';
import { isDataError, isUniqueViolation, withStoreRetry } from '../store-errors';
import type { SignalState } from '@resolver/policy';
import type { LookupKey, NewUser, StatusState, UserRecord } from '../user';
import {
  type LiveHolder,
  type Provisioned,
  type StoreCallOptions,
  type UserChanges,
  type UserListFilter,
  type UserListPage,
  type UserMerge,
  UserRepository,
} from './user-repository';
import { entityToUserRecord, toUserRecord, type UserRow } from './user-row';
import { jsonb, statusColumns, type UserProjection } from './user-columns';
import { LOOKUPS, runProvision } from './user-statements';

export type { UserProjection } from './user-columns';

/**
 * {@link UserRepository} on Postgres through TypeORM, in one of two places:
 * - **on the pool** (`new TypeOrmUserRepository(dataSource, retry)`, the resolver's instance):
 *   lookups and JIT run as raw named statements on TypeORM's own pool through a
 *   {@link PoolGate} (bounded waits for a connection, overload told apart from an outage,
 *   nothing started past the request's deadline), retried on store failures;
 * - **in a transaction** (`TypeOrmUserRepository.in(manager)`, what
 *   `IdentityTransactions.run` hands its work): every method on that transaction's connection,
 *   failures left to the transaction (which retries as a whole).
 *
 * The writers' methods (admin, import, SCIM) go through the `UserEntity` query builder. They
 * keep the entity path because they are few and operator-paced, not a burst; they read, decide
 * (operator decisions win, merges, SCIM's PATCH) and write several rows in one transaction that
 * the entity columns keep typed. JIT moved off it (one call of `resolver_jit_provision`)
 * because a burst of first logins is hundreds of those at once on a pool of ten.
 */
const NO_RETRY = { attempts: 0, backoffMs: 0 };

export class TypeOrmUserRepository extends UserRepository {
  private readonly m: EntityManager;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
    /** The transaction's connection; absent: the pool. */
    private readonly tx?: EntityManager,
  ) {
    super();
    this.m = tx ?? dataSource.manager;
  }

  /** The repository on one transaction's connection. */
  static in(tx: EntityManager): TypeOrmUserRepository {
    return new TypeOrmUserRepository(tx.connection, NO_RETRY, tx);
  }

  private get gate(): PoolGate {
    return PoolGate.of((this.dataSource.driver as PostgresDriver).master as Pool);
  }

  private get repository() {
    return this.m.getRepository(UserEntity);
  }

  /**
   * The lookup of every cache miss, as a named prepared statement on TypeORM's own pool (same
   * connections, same statement timeout): Postgres parses and plans it once per connection,
   * and TypeORM's per-query runner is skipped. Both showed in the store scenario's profile:
   * this is the measured hot path of every cache miss, so it stays one prepared statement
   * instead of an entity query.
   */
  async findByKey(key: LookupKey, options: StoreCallOptions = {}): Promise<UserRecord | null> {
    // Built field by field: `{ ...named, values }` costs about 1 µs per property added after a
    // spread on this Node (V8 11.3), measured, on the path of every cache miss.
    const { name, text } = LOOKUPS[key.strategy];
    const lookup = { name, text, values: [key.issuer, key.tenant, key.subject] };
    const rows: UserRow[] = this.tx
      ? await this.tx.query(lookup.text, lookup.values)
      : (
          await withStoreRetry(
            () => this.gate.query<UserRow>(lookup, options.deadlineAt),
            this.retry,
            options.deadlineAt,
          )
        ).rows;
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
          const provisioned = await runProvision(
            this.tx ? { tx: this.tx } : { gate: this.gate },
            key,
            user,
            options,
          );
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
      // In a transaction, failures end it, and the transaction retries as a whole.
      this.tx ? NO_RETRY : this.retry,
      options.deadlineAt,
    );
  }

  override busySince(sinceMs: number): boolean {
    return this.gate.busySince(sinceMs);
  }

  override answeredSince(sinceMs: number): boolean {
    return this.gate.answeredSince(sinceMs);
  }

  async ping(): Promise<void> {
    await withStoreRetry(() => this.m.query('SELECT 1'), NO_RETRY);
  }

  async insert(user: NewUser): Promise<UserRecord> {
    const result = await this.repository
      .createQueryBuilder()
      .insert()
      .values({
        tenant: user.tenant,
        namespace: user.namespace ?? '',
        kind: user.kind,
        email: user.email ?? null,
        username: user.username ?? null,
        displayName: user.displayName ?? null,
        roles: [...(user.roles ?? [])],
        attributes: jsonb(user.attributes ?? {}),
        ...statusColumns(user.status ?? { status: 'active', decisions: {} }),
        provenance: user.provenance,
      })
      .returning('*')
      .execute();
    return toUserRecord((result.raw as UserRow[])[0] as UserRow);
  }

  async findById(id: string, options: { readonly lock?: boolean } = {}) {
    const found = await this.repository.findOne({
      where: { id },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return found ? entityToUserRecord(found) : null;
  }

  async list(filter: UserListFilter): Promise<UserListPage> {
    const q = this.repository
      .createQueryBuilder('u')
      .addSelect('(extract(epoch FROM u.created_at) * 1000000)::bigint', 'created_us')
      .orderBy('u.created_at')
      .addOrderBy('u.id')
      .limit(filter.limit + 1);
    if (filter.tenant !== undefined) q.andWhere('u.tenant = :tenant', { tenant: filter.tenant });
    if (filter.status) q.andWhere('u.status = :status', { status: filter.status });
    if (filter.email) q.andWhere('lower(u.email) = lower(:email)', { email: filter.email });
    if (filter.provenance)
      q.andWhere('u.provenance = :provenance', { provenance: filter.provenance });
    if (filter.deleted === 'false') q.andWhere('u.deleted_at IS NULL');
    if (filter.deleted === 'true') q.andWhere('u.deleted_at IS NOT NULL');
    if (filter.after) {
      q.andWhere(
        `(u.created_at, u.id) > ('epoch'::timestamptz + CAST(:afterUs AS bigint) * interval '1 microsecond', :afterId)`,
        { afterUs: filter.after.createdAtMicros, afterId: filter.after.id },
      );
    }
    const { entities, raw } = await q.getRawAndEntities<{ created_us: string; u_id: string }>();
    const users = entities.slice(0, filter.limit).map(entityToUserRecord);
    const last = raw[filter.limit - 1];
    return {
      users,
      next:
        entities.length > filter.limit && last
          ? { createdAtMicros: String(last.created_us), id: last.u_id }
          : undefined,
    };
  }

  update(id: string, changes: UserChanges) {
    return this.change(id, (q) =>
      q.set({
        ...(changes.email !== undefined && { email: changes.email }),
        ...(changes.username !== undefined && { username: changes.username }),
        ...(changes.displayName !== undefined && { displayName: changes.displayName }),
        ...(changes.roles !== undefined && { roles: [...changes.roles] }),
        ...(changes.attributes !== undefined && { attributes: jsonb(changes.attributes) }),
      }),
    );
  }

  setStatus(id: string, state: StatusState) {
    return this.change(id, (q) => q.set(statusColumns(state)));
  }

  softDelete(id: string) {
    return this.change(id, (q) => q.set({ deletedAt: () => 'COALESCE(deleted_at, now())' }));
  }

  restore(id: string) {
    return this.change(id, (q) => q.set({ deletedAt: null }));
  }

  signOutEverywhere(id: string) {
    return this.change(id, (q) =>
      q.set({ tokensValidAfter: () => `date_trunc('second', now()) + interval '1 second'` }),
    );
  }

  recordSignals(id: string, signals: SignalState, tokensValidAfter?: Date) {
    return this.change(id, (q) =>
      q
        .set({
          signals: () => 'CAST(:signals AS jsonb)',
          ...(tokensValidAfter && {
            // Forward only: an older sign-out never shortens a newer one's protection.
            tokensValidAfter: () =>
              `GREATEST(COALESCE(tokens_valid_after, '-infinity'::timestamptz), CAST(:tva AS timestamptz))`,
          }),
        })
        .setParameters({
          signals: JSON.stringify(signals),
          tva: tokensValidAfter?.toISOString() ?? null,
        }),
    );
  }

  async lockLive(
    tenant: string,
    by: { readonly email: string } | { readonly username: string },
  ): Promise<LiveHolder[]> {
    const q = this.repository
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .addSelect('u.namespace', 'namespace')
      .where('u.tenant = :tenant', { tenant })
      .andWhere('u.deleted_at IS NULL')
      .orderBy(`(u.namespace = '')`, 'DESC')
      .addOrderBy('u.created_at')
      .limit(2)
      .setLock('pessimistic_write');
    if ('email' in by) q.andWhere(`${FOLD_EMAIL_SQL('u.email')} = :email`, { email: by.email });
    else q.andWhere('u.username = :username', { username: by.username });
    return q.getRawMany<LiveHolder>();
  }

  async merge(id: string, fields: UserMerge): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({
        email: () => 'COALESCE(:email, email)',
        username: () => 'COALESCE(:username, username)',
        displayName: () => 'COALESCE(:displayName, display_name)',
        ...(fields.status && statusColumns(fields.status)),
        roles: [...fields.roles],
        attributes: () => 'attributes || CAST(:attributes AS jsonb)',
      })
      .where('id = :id', { id })
      .setParameters({
        email: fields.email ?? null,
        username: fields.username ?? null,
        displayName: fields.displayName ?? null,
        attributes: JSON.stringify(fields.attributes),
      })
      .execute();
  }

  /**
   * Writes what an outside provisioner (SCIM) manages of a user: its projected columns, the
   * status it was decided to have (absent: unchanged), and, with `takeOver`, who manages it from
   * now on and in whose namespace its identifiers live (an adoption).
   */
  async project(id: string, projection: UserProjection): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({
        email: projection.email,
        username: projection.username,
        displayName: projection.displayName,
        ...(projection.takeOver && projection.takeOver),
        ...(projection.status && statusColumns(projection.status)),
      })
      .where('id = :id', { id })
      .execute();
  }

  /**
   * Replaces the user's roles, with no write (so no change announcement, no new `updated_at`)
   * when they are already these: SCIM recomputes roles for every member of a changed group.
   */
  async setRoles(id: string, roles: readonly string[]): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({ roles: [...roles] })
      .where('id = :id', { id })
      .andWhere('roles IS DISTINCT FROM CAST(:roles AS text[])', { roles: [...roles] })
      .execute();
  }

  /** One UPDATE ... RETURNING of the user with this id; `null` when there is none. */
  private async change(
    id: string,
    set: (q: UpdateQueryBuilder<UserEntity>) => UpdateQueryBuilder<UserEntity>,
  ): Promise<UserRecord | null> {
    const result = await set(this.repository.createQueryBuilder().update())
      .where('id = :id', { id })
      .returning('*')
      .execute();
    const [row] = result.raw as UserRow[];
    return row ? toUserRecord(row) : null;
  }
}
