import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from './support/database';
import { ResolverHarness } from './support/resolver-harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';

/** The operator CLI (built, as a separate process) against the admin API of a running resolver. */
describe('CLI admin verbs and import', () => {
  let app: ResolverHarness;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('cli'),
      issuers: [],
      env: { ADMIN_TOKEN },
    });
    env = { PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: app.url };
  });
  afterAll(async () => app?.close());

  it('creates, lists, disables and links users', async () => {
    const created = await cli(
      'users',
      'create',
      '--email',
      'cli@example.com',
      '--roles',
      'a,b',
      '--link',
      'https://idp=cli-sub',
    );
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout);
    expect(user).toMatchObject({ email: 'cli@example.com', roles: ['a', 'b'] });
    const listed = JSON.parse((await cli('users', 'list', '--email', 'cli@example.com')).stdout);
    expect(listed.users.map((u: any) => u.id)).toEqual([user.id]);
    expect(JSON.parse((await cli('users', 'disable', user.id)).stdout).status).toBe('disabled');
    const ids = JSON.parse((await cli('identities', 'list', user.id)).stdout);
    expect(ids.identities[0]).toMatchObject({ issuer: 'https://idp', subject: 'cli-sub' });
  });

  it('reports API refusals and missing credentials clearly', async () => {
    const dup = await cli('users', 'create', '--email', 'cli@example.com');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('409');
    const noCred = await run(process.execPath, [CLI, 'flush'], {
      env: { PATH: process.env.PATH, RESOLVER_URL: app.url },
    }).catch((e) => e);
    expect(noCred.stderr).toContain('ADMIN_TOKEN');
    expect((await cli('users', 'frob')).code).toBe(2);
  });

  it('imports CSV with a dry run first, and prints a summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const csv = join(dir, 'users.csv');
    await writeFile(
      csv,
      'tenant,email,displayName,roles,issuer,subject\n' +
        'imp,one@example.com,One,a;b,https://idp,one\n' +
        'imp,"two@example.com","Two, Jr.",,,\n' +
        'imp,not-an-email,Bad,,,\n',
    );
    const dry = await cli('import', csv, '--dry-run');
    expect(dry.stdout).toContain('dry run (nothing written): created 2, updated 0, rejected 1');
    expect(dry.stderr).toContain('rejected row 3');
    expect(dry.code).toBe(1);
    expect(JSON.parse((await cli('users', 'list', '--tenant', 'imp')).stdout).users).toEqual([]);
    const real = await cli('import', csv, '--batch', '2');
    expect(real.stdout).toContain('created 2, updated 0, rejected 1');
    const again = await cli('import', csv);
    expect(again.stdout).toContain('created 0, updated 2, rejected 1');
    const users = JSON.parse((await cli('users', 'list', '--tenant', 'imp')).stdout).users;
    expect(users.map((u: any) => u.displayName).sort()).toEqual(['One', 'Two, Jr.']);

    const jsonl = join(dir, 'users.jsonl');
    await writeFile(jsonl, '{"tenant":"j","email":"j@example.com"}\nnot json\n');
    const fromJsonl = await cli('import', jsonl);
    expect(fromJsonl.stdout).toContain('created 1, updated 0, rejected 1');
    expect(fromJsonl.stderr).toContain('line 2');
  });
});
