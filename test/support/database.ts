import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '../../libs/identity/src';

/** The shared e2e Postgres (started by the global setup), as an admin URL. */
export function e2eServerUrl(): string {
  const url = process.env.E2E_POSTGRES_URL;
  if (!url)
    throw new Error(
      'E2E_POSTGRES_URL is not set: run e2e suites through jest --selectProjects e2e',
    );
  return url;
}

/** Creates a fresh, empty database for one suite and returns its URL. */
export async function createTestDatabase(
  prefix = 'suite',
  serverUrl = e2eServerUrl(),
): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A small pool for seeding and inspecting rows directly, as a DBA would. */
export function sqlPool(url: string): Pool {
  return new Pool({ connectionString: url, max: 2 });
}

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

/**
 * A TypeORM data source on a fresh database of its own, migrated, with the short timeouts and
 * single retry the repository suites use. Its URL is returned too, for a suite's own `pg` pool.
 */
export async function migratedDataSource(
  name: string,
  poolSize: number,
): Promise<{ ds: DataSource; url: string }> {
  const url = await createTestDatabase(name);
  const ds = new DataSource(
    dataSourceOptions({
      url,
      poolSize,
      connectTimeoutMs: 2_000,
      statementTimeoutMs: 5_000,
      retryAttempts: 1,
      retryBackoffMs: 10,
      migrationsRun: false,
    }),
  );
  await ds.initialize();
  await runMigrations(ds);
  return { ds, url };
}
