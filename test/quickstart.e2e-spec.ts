import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/ports';
import { ResolverGrpcClient } from './support/grpc-client';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist/apps/resolver/src/main.js');
const CLI = join(ROOT, 'dist/apps/cli/src/main.js');

/**
 * The README's quickstart against the built service (`npm test` builds first): the resolver
 * process in embedded mode, a token from the CLI, and a resolution over HTTP and gRPC.
 */
describe('quickstart (built service and CLI as separate processes)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`);
    dataDir = await mkdtemp(join(tmpdir(), 'resolver-quickstart-'));
    env = {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
    };
  });

  afterAll(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service?.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts, prints how to try it, and resolves a CLI-minted token; SIGTERM exits 0', async () => {
    service = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    service.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 45_000;
    while (!output.includes('Try it') && Date.now() < deadline && service.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain('EMBEDDED DEVELOPMENT MODE');
    expect(output).toContain('npm run -s token -- --sub alice');

    const { stdout } = await run(
      process.execPath,
      [CLI, 'token', '--sub', 'alice', '--email', 'alice@example.com'],
      { env },
    );
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(stdout).toBe(`${token}\n`);

    const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).principal.email).toBe('alice@example.com');

    const grpc = new ResolverGrpcClient(`127.0.0.1:${env.GRPC_PORT}`);
    const answer = await grpc.resolve({ token });
    grpc.close();
    // Resolved once over HTTP already: from memory, or from the store if the cache listener was
    // still connecting when the first answer went out — never provisioned twice.
    expect(['CACHE', 'STORE']).toContain(answer.ok && answer.response.source);
    expect(output).not.toContain(token);

    const exited = new Promise<number | null>((r) => service?.once('exit', (code) => r(code)));
    service.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('the CLI refuses bad input with a clear message', async () => {
    await expect(run(process.execPath, [CLI, 'token'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--sub is required'),
    });
    await expect(run(process.execPath, [CLI, 'frobnicate'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command'),
    });
    await expect(
      run(process.execPath, [MAIN], { env: { ...env, HTTP_PORT: 'eighty' } }),
    ).rejects.toMatchObject({
      code: 78,
      stderr: expect.stringContaining('HTTP_PORT'),
    });
  });
});
