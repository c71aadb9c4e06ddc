import type { DataSource } from 'typeorm';
import { FOLD_EMAIL_SQL } from '@resolver/policy';
import { UUID } from '@resolver/policy';
import { withStoreRetry } from '../store-errors';
import type { LookupKey, UserRecord } from '../user';
import { toUserRecord, USER_COLUMNS, type UserRow } from '../users/user-row';

/** Why a user almost matched a lookup key that found nothing. */
export type NearMissKind =
  /** The same subject, differing only in letter case (external link or username). */
  | 'case'
  /** The same subject linked under another issuer. */
  | 'issuer'
  /** The same subject (same issuer) in another tenant. */
  | 'tenant'
  /** The subject value matches another column of a user (id, email or username). */
  | 'column'
  /** A soft-deleted user matches the subject or the token's email. */
  | 'deleted'
  /** A live user has the token's email but no link to this issuer and subject. */
  | 'email'
  /**
   * A live SCIM user of this issuer and tenant whose userName or email is the token's subject or
   * email, that has no subject yet: its client never sent the attribute that carries it.
   */
  | 'unlinked'
  /**
   * A user has the email or username looked up, in another issuer's namespace (its SCIM
   * client's or JIT's): lookups of this issuer never reach it.
   */
  | 'namespace';

export interface NearMiss {
  readonly kind: NearMissKind;
  readonly user: UserRecord;
  /** The external identity that matched (case, issuer, tenant). */
  readonly identity?: {
    readonly issuer: string;
    readonly tenant: string;
    readonly subject: string;
  };
  /** The users column that matched (column, deleted, email). */
  readonly column?: 'id' | 'email' | 'username';
}

/** What the near-miss search looks for: the key that found nothing, and the token's email. */
export interface NearMissQuery {
  readonly key: LookupKey;
  readonly email?: string;
}

/**
 * Read-only queries that explain a "not found" (diagnosis only, never on the resolution path).
 * Every query is bounded; soft-deleted users are included and flagged by `deletedAt`.
 */
export abstract class NearMissRepository {
  abstract find(query: NearMissQuery): Promise<NearMiss[]>;
}

const LIMIT = 5;

type LinkedRow = UserRow & { e_issuer: string; e_tenant: string; e_subject: string };

const LINKED = `SELECT ${USER_COLUMNS}, e.issuer AS e_issuer, e.tenant AS e_tenant, e.subject AS e_subject
  FROM external_identities e JOIN users u ON u.id = e.user_id`;

/** {@link NearMissRepository} on Postgres through TypeORM. */
export class TypeOrmNearMissRepository extends NearMissRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return withStoreRetry(() => this.dataSource.query<T[]>(sql, params), this.retry);
  }

  async find({ key, email }: NearMissQuery): Promise<NearMiss[]> {
    const found: NearMiss[] = [];
    const linked = async (kind: NearMissKind, where: string, params: unknown[]) => {
      const rows = await this.query<LinkedRow>(
        `${LINKED} WHERE ${where} ORDER BY u.created_at LIMIT ${LIMIT}`,
        params,
      );
      for (const r of rows)
        found.push({
          kind,
          user: toUserRecord(r),
          identity: { issuer: r.e_issuer, tenant: r.e_tenant, subject: r.e_subject },
        });
    };
    const users = async (
      kind: NearMissKind,
      column: NearMiss['column'],
      where: string,
      params: unknown[],
    ) => {
      const rows = await this.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users u WHERE ${where} ORDER BY u.created_at LIMIT ${LIMIT}`,
        params,
      );
      for (const r of rows) found.push({ kind, column, user: toUserRecord(r) });
    };
    const { issuer, tenant, subject, strategy } = key;

    // Letter case.
    if (strategy === 'external')
      await linked(
        'case',
        'e.issuer = $1 AND e.tenant = $2 AND lower(e.subject) = lower($3) AND e.subject <> $3',
        [issuer, tenant, subject],
      );
    if (strategy === 'username')
      await users(
        'case',
        'username',
        'u.tenant = $1 AND lower(u.username) = lower($2) AND u.username <> $2',
        [tenant, subject],
      );

    // Another issuer, another tenant.
    if (strategy === 'external') {
      await linked('issuer', 'e.subject = $1 AND e.issuer <> $2', [subject, issuer]);
      await linked('tenant', 'e.issuer = $1 AND e.subject = $2 AND e.tenant <> $3', [
        issuer,
        subject,
        tenant,
      ]);
    } else {
      const byColumn = columnMatch(strategy, subject);
      if (byColumn)
        await users('tenant', strategy, `u.tenant <> $2 AND ${byColumn}`, [subject, tenant]);
    }

    // Another issuer's namespace (email and username are compared as the lookup compares them).
    if (strategy === 'email' || strategy === 'username')
      await users(
        'namespace',
        strategy,
        `u.tenant = $2 AND u.namespace NOT IN ($3, '') AND ${strategy === 'email' ? `${FOLD_EMAIL_SQL('u.email')} = $1` : 'u.username = $1'}`,
        [subject, tenant, issuer],
      );

    // The subject is another column's value (the wrong lookup column). Email and username only
    // where that lookup would search (this issuer's namespace and the operator's): switching
    // the column would not reach another issuer's user.
    for (const column of ['id', 'email', 'username'] as const) {
      if (column === strategy) continue;
      const byColumn = columnMatch(column, subject);
      if (byColumn)
        await users(
          'column',
          column,
          `u.tenant = $2 AND ${byColumn}${column === 'id' ? '' : ` AND u.namespace IN ($3, '')`}`,
          column === 'id' ? [subject, tenant] : [subject, tenant, issuer],
        );
    }

    // Soft-deleted users with the subject or the token's email.
    const emails = [
      ...new Set([subject, email].filter((e): e is string => !!e && e.includes('@'))),
    ];
    if (emails.length)
      await users(
        'deleted',
        'email',
        'u.tenant = $1 AND u.deleted_at IS NOT NULL AND lower(u.email) = ANY($2::text[])',
        [tenant, emails.map((e) => e.toLowerCase())],
      );

    // A SCIM user of this scope with no subject at all (its client sent no externalId): the
    // token may well be that user's, and this says why it does not reach it.
    if (strategy === 'external') {
      const rows = await this.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM scim_users s JOIN users u ON u.id = s.user_id
         WHERE s.issuer = $1 AND s.tenant = $2 AND s.deleted_at IS NULL AND u.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM external_identities x
                           WHERE x.user_id = u.id AND x.issuer = $1 AND x.tenant = $2)
           AND (lower(s.user_name) IN (lower($3), lower($4)) OR lower(u.email) IN (lower($3), lower($4)))
         ORDER BY u.created_at LIMIT ${LIMIT}`,
        [issuer, tenant, subject, email ?? null],
      );
      for (const r of rows) found.push({ kind: 'unlinked', user: toUserRecord(r) });
    }

    // A live user with the token's email but no link to this issuer and subject.
    if (email && strategy === 'external')
      await users(
        'email',
        'email',
        `u.tenant = $1 AND u.deleted_at IS NULL AND lower(u.email) = lower($2) AND NOT EXISTS (
           SELECT 1 FROM external_identities x WHERE x.user_id = u.id AND x.issuer = $3 AND x.tenant = $1 AND x.subject = $4)`,
        [tenant, email, issuer, subject],
      );
    // One finding per user: a user without a subject is that, not also an email near miss.
    const unlinked = new Set(found.filter((m) => m.kind === 'unlinked').map((m) => m.user.id));
    return found.filter((m) => m.kind !== 'email' || !unlinked.has(m.user.id));
  }
}

/** A WHERE fragment matching `$1` (the subject) against one users column, or none if it cannot. */
function columnMatch(column: LookupKey['strategy'], subject: string): string | undefined {
  switch (column) {
    case 'id':
      return UUID.test(subject) ? 'u.id = $1::uuid' : undefined;
    case 'email':
      return subject.includes('@') ? 'lower(u.email) = lower($1)' : undefined;
    case 'username':
      return 'u.username = $1';
    case 'external':
      return undefined;
  }
}
