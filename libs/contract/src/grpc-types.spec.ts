import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const COMMITTED = join(__dirname, 'grpc-types');

/** Every file under `dir`, as paths relative to it with their contents, sorted by path. */
async function tree(dir: string): Promise<[string, string][]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const read = await Promise.all(
    files.map(async (f) => [relative(dir, f), await readFile(f, 'utf8')] as [string, string]),
  );
  return read.sort(([a], [b]) => a.localeCompare(b));
}

describe('gRPC message types generated from the protos', () => {
  it('the committed types are what proto-loader-gen-types makes of the .proto files now', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grpc-types-'));
    try {
      const fresh = join(dir, 'grpc-types');
      await run('bash', [join(ROOT, 'scripts/proto-types.sh'), fresh]);
      // Stale after a .proto change: run `npm run proto:types` and commit the result.
      expect(await tree(COMMITTED)).toEqual(await tree(fresh));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
