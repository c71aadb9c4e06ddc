import type { Pool } from 'pg';

export interface SeedUser {
  readonly subject: string;
  readonly tenant?: string;
  readonly kind?: 'user' | 'service';
  readonly email?: string | null;
  readonly roles?: string[];
  readonly status?: 'active' | 'disabled' | 'locked';
}

/** Inserts a user and its external identity for `issuer`, as an admin would; returns its id. */
export async function seedUser(db: Pool, issuer: string, user: SeedUser): Promise<string> {
  const { rows } = await db.query(
    `INSERT INTO users (tenant, kind, email, roles, status, provenance)
     VALUES ($1, $2, $3, $4, $5, 'admin') RETURNING id`,
    [
      user.tenant ?? '',
      user.kind ?? 'user',
      user.email === undefined ? `${user.subject}@example.com` : user.email,
      user.roles ?? [],
      user.status ?? 'active',
    ],
  );
  await db.query(
    'INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)',
    [issuer, user.tenant ?? '', user.subject, rows[0].id],
  );
  return rows[0].id as string;
}

/** The five identity headers under their default names. */
export const IDENTITY_HEADERS = [
  'x-user-id',
  'x-user-email',
  'x-tenant-id',
  'x-user-roles',
  'x-principal-kind',
] as const;
