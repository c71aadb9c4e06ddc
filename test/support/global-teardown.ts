import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const db = globalThis.__E2E_POSTGRES__;
  await db?.stop();
  const dataDir = process.env.E2E_POSTGRES_DATA_DIR;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
