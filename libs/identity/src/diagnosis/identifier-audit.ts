import type { DataSource } from 'typeorm';
import {
  describeNonCanonical,
  findNonCanonical,
  foldEmail,
  type NonCanonical,
} from '@resolver/policy';
import { withStoreRetry } from '../store-errors';

/** One stored identifier that the canonical-identifier rules would refuse, with its fix. */
export interface IdentifierFinding {
  readonly table: 'external_identities' | 'users';
  readonly field: 'subject' | 'tenant' | 'email' | 'username';
  readonly userId: string;
  readonly identityId?: string;
  readonly issuer?: string;
  /** The stored value, JSON-escaped so invisible characters show (`"admin\u3000"`). */
  readonly value: string;
  readonly problem: string;
  /** What tokens carrying this value now get. */
  readonly effect: string;
  readonly fix: string;
}

export interface IdentifierAuditReport {
  readonly findings: IdentifierFinding[];
  /** More candidates than `limit` were found: fix these and run again. */
  readonly truncated: boolean;
}

/**
 * Values that need a look in JavaScript: anything but printable ASCII with no space at either
 * end. Everything else is canonical by construction, so a million ASCII subjects cost one
 * index-free scan in Postgres and nothing in the resolver.
 */
const SUSPECT = (column: string) => `(${column} !~ '^[!-~]([ -~]*[!-~])?$')`;

/**
 * Lists stored identifiers (identity subjects and tenants, user tenants, emails, usernames) that
 * the resolver's canonical rules refuse in a token, so none silently becomes unreachable: since
 * subjects are validated instead of rewritten, a link stored as `"alice "` no longer matches
 * anything. Read-only. Subjects of the issuers in `nfcExempt` (policy without NFC) are checked
 * for everything but NFC. An abstract class so it can serve as the DI token.
 */
export abstract class IdentifierAudit {
  /** At most `limit` findings of each table; `nfcExempt`: issuers whose policy skips NFC. */
  abstract run(options: {
    limit: number;
    nfcExempt: ReadonlySet<string>;
  }): Promise<IdentifierAuditReport>;
}

/**
 * {@link IdentifierAudit} on Postgres: two bounded scans (`external_identities`, `users`) with
 * the cheap ASCII test in SQL and the exact rules in JavaScript. Raw SQL because the test is a
 * regular expression over several columns, which no entity query expresses more plainly.
 */
export class TypeOrmIdentifierAudit extends IdentifierAudit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async run(options: {
    limit: number;
    nfcExempt: ReadonlySet<string>;
  }): Promise<IdentifierAuditReport> {
    const limit = options.limit;
    const identities = await this.query<{
      id: string;
      user_id: string;
      issuer: string;
      tenant: string;
      subject: string;
    }>(
      `SELECT id, user_id, issuer, tenant, subject FROM external_identities
       WHERE ${SUSPECT('subject')} OR (tenant <> '' AND ${SUSPECT('tenant')})
       ORDER BY created_at, id LIMIT $1`,
      [limit + 1],
    );
    const users = await this.query<{
      id: string;
      tenant: string;
      email: string | null;
      username: string | null;
    }>(
      `SELECT id, tenant, email, username FROM users
       WHERE (tenant <> '' AND ${SUSPECT('tenant')}) OR ${SUSPECT('email')} OR ${SUSPECT('username')}
       ORDER BY created_at, id LIMIT $1`,
      [limit + 1],
    );
    const findings: IdentifierFinding[] = [];
    for (const row of identities.slice(0, limit)) {
      const subject = findNonCanonical(row.subject, { nfc: !options.nfcExempt.has(row.issuer) });
      if (subject) {
        findings.push({
          table: 'external_identities',
          field: 'subject',
          userId: row.user_id,
          identityId: row.id,
          issuer: row.issuer,
          value: JSON.stringify(row.subject),
          problem: describeNonCanonical(subject),
          effect: 'tokens carrying this subject are refused with SUBJECT_MALFORMED',
          fix: `if the IdP sends ${JSON.stringify(suggest(row.subject))}, relink: cli identities unlink ${row.user_id} ${row.id} && cli identities link ${row.user_id} --issuer ${row.issuer} --subject ${JSON.stringify(suggest(row.subject))}${row.tenant ? ` --tenant ${row.tenant}` : ''}; if it really sends this value, fix the IdP attribute`,
        });
      }
      const tenant = row.tenant ? findNonCanonical(row.tenant) : undefined;
      if (tenant)
        findings.push(
          tenantFinding('external_identities', row.user_id, row.tenant, tenant, row.id),
        );
    }
    for (const row of users.slice(0, limit)) {
      const tenant = row.tenant ? findNonCanonical(row.tenant) : undefined;
      if (tenant) findings.push(tenantFinding('users', row.id, row.tenant, tenant));
      for (const field of ['email', 'username'] as const) {
        const value = row[field];
        if (value === null) continue;
        const found = findNonCanonical(value);
        if (found) {
          findings.push({
            table: 'users',
            field,
            userId: row.id,
            value: JSON.stringify(value),
            problem: describeNonCanonical(found),
            effect: `tokens whose ${field} claim carries this value are refused with SUBJECT_MALFORMED (lookup: ${field}), and JIT refuses it`,
            fix: `cli users update ${row.id} --${field} ${JSON.stringify(suggest(value))} (if that is what the IdP sends)`,
          });
        } else if (field === 'email' && foldEmail(value) !== value.toLowerCase()) {
          findings.push({
            table: 'users',
            field,
            userId: row.id,
            value: JSON.stringify(value),
            problem: 'non-ASCII capital letters: emails are compared with ASCII case folded only',
            effect: `email lookups match this user only for tokens that carry the address exactly as stored (an email claim ${JSON.stringify(value.toLowerCase())} no longer finds it)`,
            fix: `cli users update ${row.id} --email ${JSON.stringify(value.toLowerCase())} if the IdP sends it in lower case`,
          });
        }
      }
    }
    return { findings, truncated: identities.length > limit || users.length > limit };
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return withStoreRetry(() => this.dataSource.query<T[]>(sql, params), this.retry);
  }
}

function tenantFinding(
  table: IdentifierFinding['table'],
  userId: string,
  value: string,
  found: NonCanonical,
  identityId?: string,
): IdentifierFinding {
  return {
    table,
    field: 'tenant',
    userId,
    identityId,
    value: JSON.stringify(value),
    problem: describeNonCanonical(found),
    effect: 'tokens whose tenant claim carries this value are refused with CLAIM_INVALID',
    fix: `the tenant must be stored as the IdP sends it, canonical (${JSON.stringify(suggest(value))}?): relink the identity or recreate the user in that tenant`,
  };
}

/** A likely canonical spelling: ends trimmed, invisible characters dropped, NFC. A guess only. */
function suggest(value: string): string {
  return value
    .replace(/[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/gu, '')
    .trim()
    .normalize('NFC');
}
