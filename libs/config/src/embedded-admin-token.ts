import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminCredentialSource, ResolverConfig } from './resolve-secrets';

/** The credential embedded mode generated, and its file. */
export interface EmbeddedAdminToken {
  readonly token: Uint8Array;
  readonly from: AdminCredentialSource & { readonly file: string; readonly named: 'generated' };
}

/** Where embedded mode keeps the admin credential it generated, under the data dir. */
export const EMBEDDED_ADMIN_TOKEN_FILE = 'admin-token';

/** Why the admin API is off, for the 404 it answers and the CLI's message; undefined when on. */
export function adminOffReason(
  config: Pick<ResolverConfig, 'admin' | 'adminEnabled' | 'source' | 'mode'>,
): string | undefined {
  if (config.admin) return undefined;
  if (config.adminEnabled === false)
    return `the admin API is disabled by admin.enabled: false in ${config.source}; set it to true and start the resolver with ADMIN_TOKEN (at least 24 bytes) or ADMIN_TOKEN_FILE`;
  return 'the admin API is disabled: no admin credential is configured; start the resolver with ADMIN_TOKEN (at least 24 bytes) or ADMIN_TOKEN_FILE set (embedded mode generates one under DATA_DIR when neither is set)';
}

/**
 * Embedded (development) mode only: the admin credential the resolver generated on its first
 * start, created now if absent (32 random bytes, base64url, mode 0600 in a 0700 directory). A
 * developer then has admin and diagnose without configuring anything; the CLI reads the same
 * file ({@link readEmbeddedAdminToken}).
 */
export async function ensureEmbeddedAdminToken(dataDir: string): Promise<EmbeddedAdminToken> {
  const file = join(dataDir, EMBEDDED_ADMIN_TOKEN_FILE);
  const existing = await readEmbeddedAdminToken(dataDir);
  if (existing) {
    // Someone may have copied it around with a looser mode: it is a credential.
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return existing;
  }
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  // 'wx': never overwrite a credential another process has just written.
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  return (await readEmbeddedAdminToken(dataDir)) as EmbeddedAdminToken;
}

/** The generated credential under `dataDir`, or undefined when there is none (yet). */
export async function readEmbeddedAdminToken(
  dataDir: string,
): Promise<EmbeddedAdminToken | undefined> {
  const file = join(dataDir, EMBEDDED_ADMIN_TOKEN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const token = text.trim();
  return token
    ? { token: new Uint8Array(Buffer.from(token, 'utf8')), from: { file, named: 'generated' } }
    : undefined;
}

/**
 * True in embedded mode when no credential is configured and admin is not disabled: the resolver
 * then generates one ({@link ensureEmbeddedAdminToken}) and the CLI reads it.
 */
export function needsEmbeddedAdminToken(
  config: Pick<ResolverConfig, 'mode' | 'admin' | 'adminEnabled'>,
): boolean {
  return config.mode === 'embedded' && !config.admin && config.adminEnabled !== false;
}
