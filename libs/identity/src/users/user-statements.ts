import { FOLD_EMAIL_SQL } from '@resolver/policy';
import type { EntityManager } from 'typeorm';
import type { PoolGate } from '../pool-gate';
import type { LookupKey, NewUser } from '../user';
import type { Provisioned } from './user-repository';
import { toUserRecord, USER_COLUMNS, type UserRow } from './user-row';

/*
 * The statements of the resolve path on `users` (the lookups and JIT), apart from the
 * repository that runs them on the pool or in a transaction (typeorm-user-repository.ts).
 */

/**
 * One parameterised statement per lookup strategy, each backed by its own index. Soft-deleted
 * users are returned (so the answer can be USER_DELETED rather than USER_NOT_FOUND); a live user
 * wins over a deleted one with the same email or username. Email and username are searched in
 * the token issuer's namespace and the operator's (`''`), the issuer's own user first: another
 * issuer's users (its SCIM client's, its JIT's) are never found.
 */
export const LOOKUP_SQL: Readonly<Record<LookupKey['strategy'], string>> = {
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
export const LOOKUPS = Object.fromEntries(
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
export const PROVISION = {
  name: 'resolver_jit_provision',
  text: `SELECT p.created, (p.provisioned).* FROM resolver_jit_provision(
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) p`,
};

/** The arguments of `resolver_jit_provision`, in its order. */
export function provisionValues(
  key: LookupKey,
  user: NewUser,
  deadlineAt: number | undefined,
): unknown[] {
  const status = user.status ?? { status: 'active', decisions: {} };
  return [
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
  ];
}

export type ProvisionRow = UserRow & { created: boolean };

/**
 * One call of `resolver_jit_provision`; `undefined` when it returned no user. Inside a writer's
 * transaction it runs under a savepoint, so that a refusal (or a dry run) undoes the call and
 * leaves the transaction usable for the lookup that follows it; on the pool it goes through the
 * gate, a dry run in a transaction that is rolled back.
 */
export async function runProvision(
  on: { readonly tx: EntityManager } | { readonly gate: PoolGate },
  key: LookupKey,
  user: NewUser,
  options: { readonly deadlineAt?: number; readonly dryRun?: boolean },
): Promise<Provisioned | undefined> {
  const { deadlineAt, dryRun } = options;
  // Field by field, not `{ ...PROVISION, values }` (see findByKey's lookup).
  const statement = {
    name: PROVISION.name,
    text: PROVISION.text,
    values: provisionValues(key, user, deadlineAt),
  };
  if ('tx' in on) {
    const { tx } = on;
    await tx.query('SAVEPOINT resolver_jit');
    try {
      const rows: ProvisionRow[] = await tx.query(statement.text, statement.values);
      await tx.query(
        dryRun ? 'ROLLBACK TO SAVEPOINT resolver_jit' : 'RELEASE SAVEPOINT resolver_jit',
      );
      return provisionedOf({ rows });
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT resolver_jit');
      throw error;
    }
  }
  return on.gate.withClient(async (client) => {
    if (!dryRun) return provisionedOf(await client.query<ProvisionRow>(statement));
    await client.query('BEGIN');
    try {
      return provisionedOf(await client.query<ProvisionRow>(statement));
    } finally {
      await client.query('ROLLBACK');
    }
  }, deadlineAt);
}

export function provisionedOf(result: { rows: ProvisionRow[] }): Provisioned | undefined {
  const row = result.rows[0];
  return row ? { user: toUserRecord(row), created: row.created } : undefined;
}
