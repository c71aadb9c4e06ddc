import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';

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
