import type { DataSource, EntityManager } from 'typeorm';
import { FOLD_EMAIL_SQL } from '../canonical-identifier';
import { isUniqueViolation, withStoreRetry } from '../store-errors';
import type { UserRecord, UserStatus } from '../user';
import { toUserRecord, USER_COLUMNS, type UserRow } from '../user-row';
import { AdminError } from './admin-error';
import {
  createUserInput,
  type IdentityInput,
  identityInput,
  importRowInput,
  listUsersInput,
  parseInput,
  IMPORT_MAX_ROWS,
  revokeInput,
  updateUserInput,
} from './admin-inputs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An external identity row as the admin API shows it. */
export interface ExternalIdentity {
  readonly id: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly subject: string;
  readonly createdAt: Date;
}

export interface UserPage {
  readonly users: UserRecord[];
  readonly nextCursor?: string;
}

export type ImportResult = {
  row: number;
  result: 'created' | 'updated' | 'rejected';
  id?: string;
  error?: string;
};

/** Which field a unique index protects, for 409 messages. */
const CONSTRAINT_FIELDS: Readonly<Record<string, string>> = {
  users_tenant_email_live_key: 'email',
  users_tenant_email_fold_live_key: 'email',
  users_tenant_username_live_key: 'username',
  external_identities_key: 'identities',
};

/**
 * User lifecycle for operators: every method validates its input (naming the bad field), runs in
 * one transaction, and relies on the NOTIFY triggers for cache invalidation on every replica.
 */
export class UserAdministration {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {}

  async create(body: unknown): Promise<UserRecord> {
    const input = parseInput(createUserInput, body);
    return this.tx(async (m) => {
      const user = await insertUser(m, { ...input, provenance: 'admin' });
      for (const identity of input.identities) await insertIdentity(m, user.id, identity);
      return user;
    });
  }

  async get(id: string): Promise<UserRecord> {
    const rows = await this.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = $1`, [
      checkId(id),
    ]);
    if (!rows[0]) throw new AdminError('NOT_FOUND', `no user ${id}`);
    return toUserRecord(rows[0]);
  }

  async list(query: unknown): Promise<UserPage> {
    const input = parseInput(listUsersInput, query);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (input.tenant !== undefined) add('u.tenant = ?', input.tenant);
    if (input.status) add('u.status = ?', input.status);
    if (input.email) add('lower(u.email) = lower(?)', input.email);
    if (input.provenance) add('u.provenance = ?', input.provenance);
    if (input.deleted === 'false') where.push('u.deleted_at IS NULL');
    if (input.deleted === 'true') where.push('u.deleted_at IS NOT NULL');
    if (input.cursor) {
      const [at, id] = decodeCursor(input.cursor);
      params.push(at, id);
      // Microseconds, as stored: a millisecond cursor would repeat rows created in the same ms.
      where.push(
        `(u.created_at, u.id) > ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length})`,
      );
    }
    params.push(input.limit + 1);
    const rows = await this.query<UserRow & { created_us: string }>(
      `SELECT ${USER_COLUMNS}, (extract(epoch FROM u.created_at) * 1000000)::bigint AS created_us FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY u.created_at, u.id LIMIT $${params.length}`,
      params,
    );
    const users = rows.slice(0, input.limit).map(toUserRecord);
    const last = rows[input.limit - 1];
    return {
      users,
      nextCursor:
        rows.length > input.limit && last
          ? Buffer.from(`${last.created_us}|${last.id}`).toString('base64url')
          : undefined,
    };
  }

  async update(id: string, body: unknown): Promise<UserRecord> {
    const input = parseInput(updateUserInput, body);
    const columns: Record<string, unknown> = {
      email: input.email,
      username: input.username,
      display_name: input.displayName,
      roles: input.roles,
      attributes: input.attributes === undefined ? undefined : JSON.stringify(input.attributes),
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    return this.change(
      id,
      `${set.map(([c], i) => `${c} = $${i + 2}`).join(', ')}`,
      set.map(([, v]) => v),
    );
  }

  setStatus(id: string, status: UserStatus): Promise<UserRecord> {
    return this.change(id, 'status = $2', [status]);
  }

  softDelete(id: string): Promise<UserRecord> {
    return this.change(id, 'deleted_at = COALESCE(deleted_at, now())', []);
  }

  restore(id: string): Promise<UserRecord> {
    return this.change(id, 'deleted_at = NULL', []);
  }

  /** "Sign out everywhere": tokens issued before now are refused (TOKEN_REVOKED). */
  signOutEverywhere(id: string): Promise<UserRecord> {
    // Whole seconds, like `iat`: a token minted in this same second may still be in flight.
    return this.change(
      id,
      `tokens_valid_after = date_trunc('second', now()) + interval '1 second'`,
      [],
    );
  }

  async identities(userId: string): Promise<ExternalIdentity[]> {
    await this.get(userId);
    const rows = await this.query<{
      id: string;
      issuer: string;
      tenant: string;
      subject: string;
      created_at: Date;
    }>(
      'SELECT id, issuer, tenant, subject, created_at FROM external_identities WHERE user_id = $1 ORDER BY created_at',
      [userId],
    );
    return rows.map((r) => ({
      id: r.id,
      issuer: r.issuer,
      tenant: r.tenant,
      subject: r.subject,
      createdAt: r.created_at,
    }));
  }

  async link(userId: string, body: unknown): Promise<ExternalIdentity> {
    const input = parseInput(identityInput, body);
    return this.tx(async (m) => {
      await lockUser(m, checkId(userId));
      return insertIdentity(m, userId, input);
    });
  }

  async unlink(userId: string, identityId: string): Promise<void> {
    const rows = returning(
      await this.query<unknown>(
        'DELETE FROM external_identities WHERE id = $1 AND user_id = $2 RETURNING id',
        [checkId(identityId, 'identityId'), checkId(userId)],
      ),
    );
    if (!rows.length)
      throw new AdminError('NOT_FOUND', `no identity ${identityId} for user ${userId}`);
  }

  async revoke(body: unknown): Promise<{ issuer: string; jti: string; expiresAt: Date }> {
    const input = parseInput(revokeInput, body);
    // A deny-list row that expires in the past would be purged at once and protects nothing: the
    // caller almost certainly meant another date (the token's exp).
    if (input.expiresAt.getTime() <= Date.now())
      throw new AdminError(
        'INVALID',
        `expiresAt: ${input.expiresAt.toISOString()} is in the past; give the token's exp (a token past its exp is already refused as TOKEN_EXPIRED)`,
        'expiresAt',
      );
    await this.query(
      `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
      [input.issuer, input.jti, input.expiresAt],
    );
    return input;
  }

  /** Tells every replica to drop its caches (through the same NOTIFY channel as the triggers). */
  async flushCaches(): Promise<void> {
    await this.query(`SELECT pg_notify('resolver_changes', '{"table":"*","op":"TRUNCATE"}')`, []);
  }

  /**
   * Upserts users by (tenant, email), else (tenant, username), else their first identity; each
   * row in its own transaction (rolled back in a dry run). Bad rows are reported, not fatal.
   */
  async import(rows: unknown, dryRun: boolean): Promise<ImportResult[]> {
    if (!Array.isArray(rows) || rows.length > IMPORT_MAX_ROWS) {
      throw new AdminError(
        'INVALID',
        `rows: must be an array of at most ${IMPORT_MAX_ROWS} users`,
        'rows',
      );
    }
    const results: ImportResult[] = [];
    for (const [i, raw] of rows.entries()) {
      try {
        const input = parseInput(importRowInput, raw);
        const outcome = await this.tx(async (m) => {
          const existing = await findForImport(m, input);
          let id: string;
          let result: 'created' | 'updated';
          if (existing) {
            await m.query(
              `UPDATE users SET email = COALESCE($2, email), username = COALESCE($3, username),
                 display_name = COALESCE($4, display_name), roles = $5, attributes = attributes || $6::jsonb,
                 status = COALESCE($7, status) WHERE id = $1`,
              [
                existing,
                input.email ?? null,
                input.username ?? null,
                input.displayName ?? null,
                input.roles,
                JSON.stringify(input.attributes),
                input.status ?? null,
              ],
            );
            id = existing;
            result = 'updated';
          } else {
            id = (
              await insertUser(m, {
                ...input,
                status: input.status ?? 'active',
                provenance: 'import',
              })
            ).id;
            result = 'created';
          }
          for (const identity of input.identities) {
            await m.query(
              `INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)
               ON CONFLICT (issuer, tenant, subject) DO NOTHING`,
              [identity.issuer, identity.tenant, identity.subject, id],
            );
          }
          if (dryRun) throw new DryRun({ row: i + 1, result, id });
          return { row: i + 1, result, id };
        });
        results.push(outcome);
      } catch (error) {
        if (error instanceof DryRun) results.push(error.result);
        else if (error instanceof AdminError)
          results.push({ row: i + 1, result: 'rejected', error: error.message });
        else throw error;
      }
    }
    return results;
  }

  private async change(id: string, set: string, params: unknown[]): Promise<UserRecord> {
    const rows = returning<UserRow>(
      await this.tx((m) =>
        m.query(`UPDATE users u SET ${set} WHERE u.id = $1 RETURNING ${USER_COLUMNS}`, [
          checkId(id),
          ...params,
        ]),
      ),
    );
    if (!rows[0]) throw new AdminError('NOT_FOUND', `no user ${id}`);
    return toUserRecord(rows[0]);
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return withStoreRetry(
      () => conflictAware(() => this.dataSource.query<T[]>(sql, params)),
      this.retry,
    );
  }

  private tx<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return withStoreRetry(() => conflictAware(() => this.dataSource.transaction(work)), this.retry);
  }
}

/** TypeORM answers UPDATE/DELETE ... RETURNING as [rows, affected]; INSERT/SELECT as rows. */
function returning<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (
    Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : r
  ) as T[];
}

/** Rolls a dry-run row's transaction back; not a store failure. */
class DryRun extends Error {
  readonly notAStoreFailure = true;
  constructor(readonly result: ImportResult) {
    super('dry run');
  }
}

/** Unique violations become 409 naming the field; everything else goes to the retry policy. */
async function conflictAware<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) {
      const constraint =
        (error as { constraint?: string; driverError?: { constraint?: string } }).constraint ??
        (error as { driverError?: { constraint?: string } }).driverError?.constraint;
      const field = (constraint && CONSTRAINT_FIELDS[constraint]) || undefined;
      throw new AdminError('CONFLICT', `${field ?? 'value'}: already in use`, field);
    }
    const code = (error as { code?: string }).code;
    if (error instanceof DryRun || error instanceof AdminError) throw error;
    if (code === '23503') throw new AdminError('NOT_FOUND', 'the user does not exist');
    if (code === '23514' || code === '22001')
      throw new AdminError('INVALID', 'a value is out of range');
    throw error;
  }
}

function checkId(id: string, field = 'id'): string {
  if (!UUID.test(id)) throw new AdminError('INVALID', `${field}: must be a UUID`, field);
  return id;
}

function decodeCursor(cursor: string): [string, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || !/^\d{1,20}$/.test(at) || !UUID.test(id)) {
    throw new AdminError('INVALID', 'cursor: not a cursor from a previous page', 'cursor');
  }
  return [at, id];
}

async function lockUser(m: EntityManager, id: string): Promise<void> {
  const rows = await m.query<unknown[]>('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [id]);
  if (!rows.length) throw new AdminError('NOT_FOUND', `no user ${id}`);
}

async function insertUser(
  m: EntityManager,
  u: {
    tenant: string;
    kind: 'user' | 'service';
    email?: string;
    username?: string;
    displayName?: string;
    roles: string[];
    attributes: Record<string, unknown>;
    status: UserStatus;
    provenance: 'admin' | 'import';
  },
): Promise<UserRecord> {
  const [row] = await m.query<UserRow[]>(
    `INSERT INTO users AS u (tenant, kind, email, username, display_name, roles, attributes, status, provenance)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${USER_COLUMNS}`,
    [
      u.tenant,
      u.kind,
      u.email ?? null,
      u.username ?? null,
      u.displayName ?? null,
      u.roles,
      JSON.stringify(u.attributes),
      u.status,
      u.provenance,
    ],
  );
  return toUserRecord(row as UserRow);
}

async function insertIdentity(
  m: EntityManager,
  userId: string,
  identity: IdentityInput,
): Promise<ExternalIdentity> {
  const [row] = await m.query<{ id: string; created_at: Date }[]>(
    `INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
    [identity.issuer, identity.tenant, identity.subject, userId],
  );
  return {
    id: row?.id as string,
    issuer: identity.issuer,
    tenant: identity.tenant,
    subject: identity.subject,
    createdAt: row?.created_at as Date,
  };
}

async function findForImport(
  m: EntityManager,
  input: { tenant: string; email?: string; username?: string; identities: IdentityInput[] },
): Promise<string | undefined> {
  let rows: { id: string }[] = [];
  if (input.email) {
    rows = await m.query(
      `SELECT id FROM users WHERE tenant = $1 AND ${FOLD_EMAIL_SQL('email')} = $2 AND deleted_at IS NULL FOR UPDATE`,
      [input.tenant, input.email],
    );
  } else if (input.username) {
    rows = await m.query(
      `SELECT id FROM users WHERE tenant = $1 AND username = $2 AND deleted_at IS NULL FOR UPDATE`,
      [input.tenant, input.username],
    );
  } else if (input.identities[0]) {
    const id = input.identities[0];
    rows = await m.query(
      `SELECT user_id AS id FROM external_identities WHERE issuer = $1 AND tenant = $2 AND subject = $3`,
      [id.issuer, id.tenant, id.subject],
    );
  }
  return rows[0]?.id;
}
