import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Where a running embedded resolver says where it listens, under the data dir. */
export const EMBEDDED_SERVER_FILE = 'server.json';

const port = z.number().int().min(1).max(65535);

/**
 * Where a running embedded resolver listens, as a client on this machine reaches it (a wildcard
 * bind is recorded as loopback). The CLI in another terminal reads it, so that `HTTP_PORT` and
 * `GRPC_PORT` given to the server need not be repeated for every command.
 */
const recordSchema = z.object({
  pid: z.number().int().min(1),
  host: z.string().min(1).max(255),
  httpPort: port,
  /** 0 when the server was told to take any free port for gRPC (then it is not known here). */
  grpcPort: z.number().int().min(0).max(65535),
  /**
   * Which admin credential it was started with: the CLI reads the generated one under the data
   * dir only when that is the one the server checks (a stale file would only earn a 401).
   */
  admin: z.enum(['generated', 'configured', 'off']),
});
export type EmbeddedServerRecord = z.output<typeof recordSchema>;

/**
 * Records where this process listens (written whole, then renamed, so a reader never sees half a
 * file). The returned function removes the record again at shutdown; a crashed process leaves it
 * behind, which {@link readEmbeddedServer} ignores because its pid is gone.
 */
export async function recordEmbeddedServer(
  dataDir: string,
  record: EmbeddedServerRecord,
): Promise<() => Promise<void>> {
  const file = join(dataDir, EMBEDDED_SERVER_FILE);
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(recordSchema.parse(record), null, 2)}\n`, {
    mode: 0o644,
  });
  await rename(partial, file);
  return () => rm(file, { force: true });
}

/**
 * The running embedded resolver under `dataDir`: undefined when none has recorded itself, when
 * the process that did is gone, or when the file is not a record (it is read, never trusted).
 */
export async function readEmbeddedServer(
  dataDir: string,
): Promise<EmbeddedServerRecord | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dataDir, EMBEDDED_SERVER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success || !isAlive(parsed.data.pid)) return undefined;
  return parsed.data;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
