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

  it('says the admin API is disabled, and how to enable it, when the server has no credential', async () => {
    const off = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('cli_off'),
      issuers: [],
    });
    try {
      const result = await run(process.execPath, [CLI, 'users', 'list'], {
        env: { PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: off.url },
      }).catch((e: { code: number; stderr: string }) => e);
      expect(result).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(
          'admin API: 404 the admin API is disabled: no admin credential is configured; start the resolver with ADMIN_TOKEN',
        ),
      });
    } finally {
      await off.close();
    }
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
    // Every problem is reported by the file's line (the header is line 1), in both formats.
    expect(dry.stderr).toContain('rejected line 4: ');
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
    expect(fromJsonl.stderr).toContain('rejected line 2: ');
  });

  it('never rewrites a CSV value: a subject the server would fold is refused by the server, by line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const csv = join(dir, 'raw.csv');
    // Issue #22: U+00A0 + "trimsub" + U+3000 was linked as "trimsub" (String.prototype.trim).
    await writeFile(
      csv,
      'tenant,username,roles,issuer,subject\n' +
        'raw,plain,a,https://idp,plainsub\n' +
        'raw,nbsp,a,https://idp,\u00a0trimsub\u3000\n' +
        'raw, lead,a,https://idp,leadsub\n' +
        'raw,kelvin,\u212aelvin,https://idp,kelvinsub\n' +
        'raw,role, admin,https://idp,rolesub\n',
    );
    const result = await cli('import', csv);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('created 1, updated 0, rejected 4');
    expect(result.stderr).toMatch(
      /rejected line 3: identities\[0\]\.subject: is not canonical: U\+00A0/,
    );
    expect(result.stderr).toMatch(/rejected line 4: username: is not canonical: U\+0020/);
    expect(result.stderr).toMatch(/rejected line 5: roles\[0\]: is not canonical: U\+212A/);
    expect(result.stderr).toMatch(/rejected line 6: roles\[0\]: is not canonical: U\+0020/);
    const users = JSON.parse((await cli('users', 'list', '--tenant', 'raw')).stdout).users;
    expect(users.map((u: any) => u.username)).toEqual(['plain']);
  });

  it('refuses a CSV row with too few (or too many) columns, by line, and imports the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const csv = join(dir, 'short.csv');
    await writeFile(
      csv,
      'tenant,email,displayName,roles\n' +
        'cols,full@example.com,Full,a\n' +
        'cols,short@example.com\n' +
        'cols,"multi@example.com","Two\nLines",b\n' +
        'cols,long@example.com,Long,a,extra\n',
    );
    const result = await cli('import', csv);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('created 2, updated 0, rejected 2');
    expect(result.stderr).toContain('rejected line 3: has 2 columns, the header has 4');
    // The quoted newline keeps line numbers true: the long row starts on line 6.
    expect(result.stderr).toContain('rejected line 6: has 5 columns, the header has 4');
    const users = JSON.parse((await cli('users', 'list', '--tenant', 'cols')).stdout).users;
    expect(users.map((u: any) => u.email).sort()).toEqual([
      'full@example.com',
      'multi@example.com',
    ]);
  });

  it('imports 1,000 rows in one --batch 1000, the documented maximum', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const csv = join(dir, 'big.csv');
    const lines = ['tenant,email,username,displayName,roles,issuer,subject'];
    for (let i = 0; i < 1000; i++)
      lines.push(
        `big,user${i}@example.com,user${i},User Number ${i} with a longish display name,reader;writer,https://idp.example.com/,subject-${i}`,
      );
    await writeFile(csv, `${lines.join('\n')}\n`);
    const result = await cli('import', csv, '--batch', '1000', '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('created 1000, updated 0, rejected 0');
    expect(result.code).toBe(0);
  });

  it('a row too large for the import route is named by its line, with what to change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const jsonl = join(dir, 'huge.jsonl');
    await writeFile(
      jsonl,
      `{"tenant":"huge","email":"ok@example.com"}\n{"tenant":"huge","displayName":"${'x'.repeat(9 * 1024 * 1024)}"}\n`,
    );
    const result = await cli('import', jsonl, '--dry-run');
    expect(result.code).toBe(1);
    // Refused before it is uploaded (the server would cut the connection mid-upload).
    expect(result.stderr).toContain('the row on line 2 alone is larger than the server accepts');
    expect(result.stderr).toContain('nothing was sent for it');
  });

  it('refuses revoke --expires-at in the past; takes a relative time', async () => {
    const past = await cli(
      'revoke',
      '--issuer',
      'https://idp',
      '--jti',
      'p',
      '--expires-at',
      '-1h',
    );
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('is in the past');
    const old = await cli(
      'revoke',
      '--issuer',
      'https://idp',
      '--jti',
      'p',
      '--expires-at',
      '2020-01-01T00:00:00Z',
    );
    expect(old.code).toBe(2);
    const ok = await cli('revoke', '--issuer', 'https://idp', '--jti', 'p', '--expires-at', '+24h');
    expect(ok.code).toBe(0);
    const expiresAt = Date.parse(JSON.parse(ok.stdout).expiresAt);
    expect(Math.abs(expiresAt - (Date.now() + 86_400_000))).toBeLessThan(60_000);
  });

  it('lists users page by page with --cursor, which the help names', async () => {
    for (const n of [1, 2, 3])
      expect(
        (await cli('users', 'create', '--tenant', 'pages', '--email', `p${n}@example.com`)).code,
      ).toBe(0);
    const first = JSON.parse(
      (await cli('users', 'list', '--tenant', 'pages', '--limit', '2')).stdout,
    );
    expect(first.users).toHaveLength(2);
    const second = JSON.parse(
      (
        await cli(
          'users',
          'list',
          '--tenant',
          'pages',
          '--limit',
          '2',
          '--cursor',
          first.nextCursor,
        )
      ).stdout,
    );
    expect(second.users).toHaveLength(1);
    const help = await run(process.execPath, [CLI, 'help'], { env });
    expect(help.stdout).toMatch(/users list .*\n.*--cursor C/);
  });
});
