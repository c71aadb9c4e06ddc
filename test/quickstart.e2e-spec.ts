// About 400 lines on purpose: one built service process, started once, serves every command
// of the README's quickstart in order (a second start and migrate while it runs included);
// splitting it would start that embedded-Postgres process once per file.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { loadConfig } from '@resolver/config';
import { dataSourceOptions, runningEmbeddedDatabase } from '@resolver/identity';
import { freePort } from './support/ports';
import { ResolverGrpcClient } from './support/grpc-client';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist/apps/resolver/src/main.js');
const CLI = join(ROOT, 'dist/apps/cli/src/main.js');
const PYTHON = '/usr/bin/python3';
const REFLECTION_CLIENT = join(__dirname, 'support/reflection_client.py');

type Run = { code: number; stdout: string; stderr: string };

/**
 * The README's quickstart, line by line, against the built service (`npm test` builds first):
 * the resolver process in embedded mode, then every command the README and the banner give a
 * new user — tokens (refusal examples included), `cli resolve` over HTTP and gRPC, a reflection
 * client nobody here wrote, the admin verbs with the generated credential, and `migrate` or a
 * second start while the first one runs. The CLI runs as from another terminal: with the data
 * dir but without the server's (non-default) ports.
 */
describe('quickstart (built service and CLI as separate processes)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  /**
   * Another terminal in the same directory: it has the data dir (./.data there) but none of the
   * server's ports, which the CLI finds under the data dir.
   */
  let terminal: NodeJS.ProcessEnv;
  let service: ChildProcess | undefined;
  let output = '';

  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
        env: { ...terminal, ...extraEnv },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as Run;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const token = async (...args: string[]) => (await cli(['token', ...args])).stdout.trim();
  /** `npm start`'s last step, in the foreground terminal: up once the banner is out. */
  const startService = async (serviceEnv: NodeJS.ProcessEnv) => {
    output = '';
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: serviceEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service = child;
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 45_000;
    while (!output.includes('Try it') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 200));
  };
  const stopService = async () => {
    const exited = new Promise<number | null>((r) => service?.once('exit', (code) => r(code)));
    service?.kill('SIGTERM');
    return exited;
  };

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
    terminal = { PATH: process.env.PATH, DATA_DIR: dataDir };
  });

  afterAll(async () => {
    if (service && service.exitCode === null) await stopService();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts and prints how to try it: resolve --grpc, grpcurl as the alternative, the admin credential', async () => {
    await startService(env);
    expect(output).toContain('EMBEDDED DEVELOPMENT MODE');
    expect(output).toContain('npm run -s token -- --sub alice');
    expect(output).toContain('npm run -s cli -- resolve "$TOKEN" --grpc');
    expect(output).toContain('grpcurl -plaintext');
    const adminFile = join(dataDir, 'admin-token');
    expect(output).toContain(`Admin:       credential in ${adminFile}`);
    expect(output).toContain('npm run -s cli -- users list');
    // A credential: owner-only, and long enough for the admin API's minimum.
    expect((await stat(adminFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(adminFile, 'utf8')).trim().length).toBeGreaterThanOrEqual(24);
  });

  it('resolves a CLI-minted token over HTTP and gRPC, and never logs it', async () => {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'token', '--sub', 'alice', '--email', 'alice@example.com'],
      { env },
    );
    const alice = stdout.trim();
    expect(alice.split('.')).toHaveLength(3);
    expect(stdout).toBe(`${alice}\n`);

    const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).principal.email).toBe('alice@example.com');

    const grpc = new ResolverGrpcClient(`127.0.0.1:${env.GRPC_PORT}`);
    const answer = await grpc.resolve({ token: alice });
    grpc.close();
    // Resolved once over HTTP already: from memory, or from the store if the cache listener was
    // still connecting when the first answer went out — never provisioned twice.
    expect(['CACHE', 'STORE']).toContain(answer.ok && answer.response.source);
    expect(output).not.toContain(alice);
  });

  it('cli resolve prints the answer over HTTP and --grpc, or the reason with exit 1', async () => {
    const bob = await token('--sub', 'bob', '--email', 'bob@example.com');
    const http = await cli(['resolve', bob]);
    expect(http.code).toBe(0);
    expect(JSON.parse(http.stdout)).toMatchObject({
      principal: { email: 'bob@example.com' },
      token: { subject: 'bob' },
      source: 'PROVISIONED',
    });
    const grpc = await cli(['resolve', bob, '--grpc']);
    expect(grpc.code).toBe(0);
    const viaGrpc = JSON.parse(grpc.stdout);
    expect(viaGrpc).toMatchObject({
      principal: { id: JSON.parse(http.stdout).principal.id, email: 'bob@example.com' },
      token: { subject: 'bob', expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(['CACHE', 'STORE']).toContain(viaGrpc.source);
    // The README's other formats: an encrypted JWT and a PASETO v4.public token for bob.
    for (const format of ['jwe', 'paseto']) {
      const other = await token('--sub', 'bob', '--format', format);
      expect(other.split('.')).toHaveLength(format === 'jwe' ? 5 : 4);
      expect(JSON.parse((await cli(['resolve', other, '--grpc'])).stdout)).toMatchObject({
        principal: { email: 'bob@example.com' },
        token: { subject: 'bob' },
      });
    }

    const refusedGrpc = await cli(['resolve', 'not-a-jwt', '--grpc']);
    expect(refusedGrpc).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^refused: TOKEN_MALFORMED — .*\(gRPC UNAUTHENTICATED\)\n$/),
    });
    const refusedHttp = await cli(['resolve', 'not-a-jwt']);
    expect(refusedHttp.stderr).toMatch(/^refused: TOKEN_MALFORMED — .*\(HTTP 401\)\n$/);
    const nobody = await cli([
      'resolve',
      bob,
      '--grpc',
      '--address',
      `127.0.0.1:${await freePort()}`,
    ]);
    expect(nobody).toMatchObject({ code: 1, stderr: expect.stringContaining('UNREACHABLE') });
  });

  it.each(['v1', 'v1alpha'])(
    'a Python gRPC client resolves from reflection %s alone (descriptor_pool, dynamic call)',
    async (version) => {
      const dir = await mkdtemp(join(tmpdir(), 'reflection-client-'));
      try {
        // The one schema a reflection client brings: the reflection protocol itself.
        const schema = join(dir, 'reflection.binpb');
        await run('protoc', [
          '-I',
          join(ROOT, 'proto'),
          `--descriptor_set_out=${schema}`,
          `grpc/reflection/${version}/reflection.proto`,
        ]);
        const carol = await token('--sub', 'carol', '--email', 'carol@example.com');
        const { stdout } = await run(PYTHON, [
          REFLECTION_CLIENT,
          `127.0.0.1:${env.GRPC_PORT}`,
          schema,
          carol,
          version,
        ]);
        const report = JSON.parse(stdout);
        expect(report.services).toEqual(
          expect.arrayContaining([
            'identity.v1.SubjectResolver',
            'envoy.service.auth.v3.Authorization',
            'grpc.health.v1.Health',
            'grpc.reflection.v1.ServerReflection',
            'grpc.reflection.v1alpha.ServerReflection',
          ]),
        );
        expect(report.resolver_dependencies).toEqual(['google/protobuf/timestamp.proto']);
        expect(report.principal_fields).toEqual(
          expect.arrayContaining(['tenant_id', 'display_name', 'attributes']),
        );
        expect(report.principal_nested).toEqual(['AttributesEntry']);
        expect(report.resolve.ok).toMatchObject({
          principal: { email: 'carol@example.com' },
          token: { subject: 'carol' },
        });
        expect(report.refused.error).toMatchObject({
          code: 'UNAUTHENTICATED',
          details: expect.stringContaining('TOKEN_MALFORMED'),
        });
        expect(report.health.ok).toEqual({ status: 'SERVING' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('admin verbs and diagnose use the generated credential without ADMIN_TOKEN', async () => {
    const listed = await cli(['users', 'list', '--email', 'alice@example.com']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).users).toHaveLength(1);
    const alice = await token('--sub', 'alice');
    const diagnosis = await cli(['diagnose', alice, '--json']);
    expect(diagnosis.code).toBe(0);
    expect(JSON.parse(diagnosis.stdout).verdict.reason).toBe('OK');
    const credential = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/admin/v1/users?limit=1`, {
      headers: { authorization: `Bearer ${credential}` },
    });
    expect(res.status).toBe(200);
  });

  // Each refusal example the README lists, minted with the dev issuer: the CLI warns with the
  // reason, and the resolver answers exactly that reason.
  it.each([
    [['--exp', '-5m'], 'TOKEN_EXPIRED'],
    [['--exp', '2020-01-01T00:00:00Z'], 'TOKEN_EXPIRED'],
    [['--nbf', '+1h'], 'TOKEN_NOT_YET_VALID'],
    [['--iat', '+2h'], 'CLAIM_INVALID'],
    [['--aud', 'someone-else'], 'AUDIENCE_MISMATCH'],
    [['--claim', 'aud=["a","b"]'], 'AUDIENCE_MISMATCH'],
    [['--claim', 'iss=https://elsewhere.example'], 'ISSUER_UNKNOWN'],
    [['--claim', 'exp=1'], 'TOKEN_EXPIRED'],
    [['--omit', 'exp'], 'CLAIM_INVALID'],
    [['--sign-with', 'none'], 'ALGORITHM_NOT_ALLOWED'],
    [['--sign-with', 'other-key'], 'SIGNATURE_INVALID'],
  ])('token %j is a refusal example: warned, then refused with %s', async (args, reason) => {
    const minted = await cli(['token', '--sub', 'dave', ...args]);
    expect(minted.code).toBe(0);
    expect(minted.stderr).toContain(`warning: the resolver will refuse this token with ${reason}`);
    const answer = await cli(['resolve', minted.stdout.trim()]);
    expect(answer).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`refused: ${reason} `),
    });
  });

  it('token overrides keep what was asked: claims win over the defaults', async () => {
    const minted = await cli(['token', '--sub', 'erin', '--exp', '+10m', '--claim', 'jti="fixed"']);
    expect(minted.stderr).toBe('');
    const payload = JSON.parse(
      Buffer.from(minted.stdout.trim().split('.')[1] as string, 'base64url').toString(),
    );
    expect(payload.jti).toBe('fixed');
    expect(payload.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
    expect(payload.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(600);
    expect((await cli(['resolve', minted.stdout.trim()])).code).toBe(0);
  });

  it('migrate while the server runs uses its embedded Postgres: applies what is pending, exit 0', async () => {
    const upToDate = await cli(['migrate']);
    expect(upToDate).toMatchObject({ code: 0, stdout: 'up to date: no pending migrations\n' });
    expect(upToDate.stderr).toContain(`held by a running resolver (Postgres pid `);
    expect(upToDate.stderr).toContain('migrating it there');

    // Something pending: the last migration undone behind the running resolver's back.
    const running = await runningEmbeddedDatabase(loadConfig(env).embedded);
    const db = new DataSource(
      dataSourceOptions({ ...loadConfig(env).database, url: running!.url }),
    );
    await db.initialize();
    try {
      const [{ name: last }] = await db.query(
        'SELECT name FROM migrations ORDER BY id DESC LIMIT 1',
      );
      await db.undoLastMigration({ transaction: 'each' });
      expect(await db.showMigrations()).toBe(true);
      const applied = await cli(['migrate']);
      expect(applied).toMatchObject({ code: 0, stdout: `applied: ${last}\n` });
      expect(await db.showMigrations()).toBe(false);
    } finally {
      await db.destroy();
    }
    expect(service?.exitCode).toBeNull();
  });

  it('every CLI verb finds the running server on its non-default ports from DATA_DIR alone', async () => {
    const frank = await token('--sub', 'frank', '--email', 'frank@example.com');
    expect(await cli(['resolve', frank])).toMatchObject({ code: 0 });
    expect(await cli(['resolve', frank, '--grpc'])).toMatchObject({ code: 0 });
    const diagnosis = await cli(['diagnose', frank, '--json']);
    expect(JSON.parse(diagnosis.stdout).verdict.reason).toBe('OK');
    expect((await cli(['users', 'list', '--email', 'frank@example.com'])).code).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'quickstart-import-'));
    try {
      const file = join(dir, 'users.csv');
      await writeFile(file, 'tenant,email,username\n,grace@example.com,grace\n');
      const imported = await cli(['import', file]);
      expect(imported).toMatchObject({ code: 0, stdout: expect.stringContaining('created 1') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await cli(['audit'])).code).toBe(0);
    expect((await cli(['flush'])).code).toBe(0);
  });

  it('explicit settings win over the running server the CLI found', async () => {
    const frank = await token('--sub', 'frank');
    const elsewhere = String(await freePort());
    const grpc = await cli(['resolve', frank, '--grpc'], { GRPC_PORT: elsewhere });
    expect(grpc).toMatchObject({ code: 1, stderr: expect.stringContaining(`:${elsewhere}:`) });
    const address = await cli(['resolve', frank, '--grpc', '--address', `127.0.0.1:${elsewhere}`]);
    expect(address).toMatchObject({ code: 1, stderr: expect.stringContaining('UNREACHABLE') });
    const http = await cli(['resolve', frank], { HTTP_PORT: elsewhere });
    expect(http).toMatchObject({ code: 1, stderr: expect.stringContaining(`:${elsewhere}`) });
    const admin = await cli(['users', 'list'], { RESOLVER_URL: `http://127.0.0.1:${elsewhere}` });
    expect(admin).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot reach') });
    // A credential given explicitly is the one sent: a wrong one is refused, not replaced.
    const wrong = await cli(['users', 'list'], { ADMIN_TOKEN: 'x'.repeat(32) });
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining('401') });
  });

  it('a second start on the same DATA_DIR says so instead of blaming a port', async () => {
    const second = await run(process.execPath, [MAIN], {
      env: { ...env, HTTP_PORT: String(await freePort()), GRPC_PORT: String(await freePort()) },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: Run) => e,
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('is in use by a running Postgres');
    expect(second.stderr).toContain('another DATA_DIR');
  });

  it('SIGTERM exits 0 and removes the record the CLI finds the server by', async () => {
    expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
    expect(await stopService()).toBe(0);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  });

  it('migrate with no resolver running starts the embedded Postgres itself, and stops it', async () => {
    const migrate = await cli(['migrate'], { EMBEDDED_PG_PORT: env.EMBEDDED_PG_PORT });
    expect(migrate).toMatchObject({ code: 0, stdout: 'up to date: no pending migrations\n' });
    expect(migrate.stderr).toBe('');
    expect(await runningEmbeddedDatabase(loadConfig(env).embedded)).toBeUndefined();
  });

  it('started with ADMIN_TOKEN, the banner shows diagnose and the admin verbs, and they work as shown', async () => {
    const credential = 'a-configured-admin-credential-for-the-banner';
    await startService({ ...env, ADMIN_TOKEN: credential });
    try {
      expect(output).toContain('Admin:       on, with the credential in ADMIN_TOKEN');
      expect(output).toContain('\n    npm run -s cli -- users list\n');
      expect(output).toContain('\n    npm run -s cli -- diagnose "$TOKEN"\n');
      expect(output).toContain(
        `curl -s http://127.0.0.1:${env.HTTP_PORT}/admin/v1/users -H "Authorization: Bearer $ADMIN_TOKEN"`,
      );
      expect(output).not.toContain(credential);
      // As the banner says: ADMIN_TOKEN in the other terminal too.
      const withIt = { ADMIN_TOKEN: credential };
      expect((await cli(['users', 'list', '--limit', '1'], withIt)).code).toBe(0);
      const alice = await token('--sub', 'alice');
      const diagnosis = await cli(['diagnose', alice, '--json'], withIt);
      expect(JSON.parse(diagnosis.stdout).verdict.reason).toBe('OK');
      // Without it, the CLI says what to set; the generated file is not this server's credential.
      const without = await cli(['users', 'list']);
      expect(without).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('set ADMIN_TOKEN'),
      });
    } finally {
      expect(await stopService()).toBe(0);
    }
  });

  it('the CLI refuses bad input with a clear message', async () => {
    await expect(run(process.execPath, [CLI, 'token'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--sub is required'),
    });
    await expect(
      run(process.execPath, [CLI, 'token', '--sub', 'x', '--exp', 'soon'], { env }),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--exp: cannot read') });
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
