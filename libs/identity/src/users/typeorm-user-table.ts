import type { EntityManager, UpdateQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { FOLD_EMAIL_SQL } from '@resolver/policy';
import { UserEntity } from '../entities/user.entity';
import type { NewUser, Provenance, StatusState, UserRecord } from '../user';
import { entityToUserRecord, toUserRecord, type UserRow } from './user-row';
import type {
  LiveHolder,
  UserChanges,
  UserListFilter,
  UserListPage,
  UserMerge,
  UserTable,
} from './user-table';

/**
 * {@link UserTable} through TypeORM's `UserEntity` on one transaction's `EntityManager`. Every
 * write of `users` by admin, import and SCIM is one of these methods; JIT is not (it is one
 * call of `resolver_jit_provision`, see `TypeOrmUserRepository.provision`).
 *
 * Why these writers keep the entity path: they are few and operator-paced, not a burst; they
 * read, decide (operator decisions win, merges, SCIM's PATCH) and write several rows in one
 * transaction that the entity columns keep typed; and their errors name the field from the
 * entity's constraints. A multi-round-trip transaction costs them nothing that matters. JIT
 * moved off it because a burst of first logins is hundreds of those at once on a pool of ten.
 */
export class TypeOrmUserTable implements UserTable {
  constructor(private readonly m: EntityManager) {}

  private get repository() {
    return this.m.getRepository(UserEntity);
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

/** The `users` columns an outside provisioner (SCIM) sets; see {@link TypeOrmUserTable.project}. */
export interface UserProjection {
  readonly email: string | null;
  readonly username: string;
  readonly displayName: string | null;
  /** As `decideStatus` decided it; absent: the status stays. */
  readonly status?: StatusState;
  /** Present when the provisioner takes the user over from its previous writer. */
  readonly takeOver?: { readonly provenance: Provenance; readonly namespace: string };
}

/** The status columns, always written together, as decided (see `decideStatus`). */
function statusColumns(state: StatusState) {
  return {
    status: state.status,
    statusDecisions: {
      ...state.decisions,
    } as QueryDeepPartialEntity<UserEntity>['statusDecisions'],
  };
}

/**
 * A jsonb value for a query builder. TypeORM types an object column as a deep partial of its
 * properties, which `unknown` values cannot satisfy; the driver stores the object as JSON.
 */
function jsonb(value: Readonly<Record<string, unknown>>) {
  return { ...value } as QueryDeepPartialEntity<UserEntity>['attributes'];
}
