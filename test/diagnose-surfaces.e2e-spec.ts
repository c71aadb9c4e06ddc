import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from './support/database';
import { DiagnoseGrpcClient } from './support/diagnose-grpc-client';
import { ADMIN_TOKEN, AUD, diagnoseWorld } from './support/diagnose-world';
import { DIAGNOSIS_STEPS } from '@resolver/resolution';
import { ResolverHarness } from './support/resolver-harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');

/**
 * Diagnose's surfaces beyond the HTTP scenarios of diagnose.e2e-spec.ts: it requires the admin
 * credential and does not exist without one, answers the same report over gRPC, and the CLI
 * prints it (JSON when piped, a table with --table) with its exit codes.
 */
describe('diagnose: why was this token refused?', () => {
  const w = diagnoseWorld('diagnose_surfaces');
  /** A second resolver over the same issuers, started without an admin credential. */
  let off: ResolverHarness;
  beforeAll(async () => {
    off = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('diagnose_off'),
      issuers: w.issuers,
    });
  });
  afterAll(async () => {
    await off?.close();
  });

  it('requires the admin credential, and does not exist without one', async () => {
    const token = await w.sign({ sub: 'alice' });
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}`]) {
      const res = await w.app.http('/v1/diagnose', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(401);
    }
    const absent = await off.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(absent.status).toBe(404);
    expect(await w.grpc.diagnose(token, 'wrong')).toMatchObject({ ok: false, code: 16 });
    const offGrpc = new DiagnoseGrpcClient(off.resolver.grpcAddress);
    expect(await offGrpc.diagnose(token, ADMIN_TOKEN)).toMatchObject({ ok: false, code: 12 });
    offGrpc.close();
  });

  it('over gRPC: same report, details as JSON', async () => {
    const result = await w.grpc.diagnose(await w.sign({ sub: 'dis' }), ADMIN_TOKEN);
    if (!result.ok) throw new Error(`gRPC failed: ${result.message}`);
    const r = result.response;
    expect(r.verdict).toBe('USER_DISABLED');
    expect(r.outcome).toBe('refused');
    expect(r.httpStatus).toBe(403);
    expect(r.steps.map((s: any) => s.step)).toEqual(DIAGNOSIS_STEPS);
    const user = r.steps.find((s: any) => s.step === 'user');
    expect(user).toMatchObject({ status: 'fail' });
    expect(user.fix).toContain(`users enable ${w.ids.dis}`);
    expect(JSON.parse(user.detailsJson).user.id).toBe(w.ids.dis);
  });

  describe('CLI', () => {
    const env = () => ({ PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: w.app.url });
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: env() });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const cliStdin = (input: string, ...args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: env() });
        let stdout = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.on('close', (code) => resolve({ code, stdout }));
        child.stdin.end(input);
      });

    it('prints JSON when piped and exits 1 for a refused token', async () => {
      const token = await w.sign({ sub: 'alice', aud: 'api://elsewhere' });
      const out = await cli('diagnose', token);
      expect(out.code).toBe(1);
      const report = JSON.parse(out.stdout);
      expect(report.verdict.reason).toBe('AUDIENCE_MISMATCH');
      expect(report.steps.find((s: any) => s.step === 'claims').fix).toContain(AUD);
    });

    it('reads the token from stdin, prints a table with --table, exits 0 when OK', async () => {
      const token = await w.sign({ sub: 'alice' });
      const out = await cliStdin(`${token}\n`, 'diagnose', '-', '--table');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^ #\s+step\s+status\s+finding/);
      expect(out.stdout).toMatch(new RegExp(`${DIAGNOSIS_STEPS.length} {2}Verdict\\s+PASS`));
      expect(out.stdout).toContain('verdict: OK');
      expect(out.stdout).not.toContain('\x1b['); // no colour: not a terminal
      expect(out.stdout).not.toContain(token.split('.')[2]);

      const refused = await cliStdin(await w.sign({ sub: 'dora' }), 'diagnose', '-', '--table');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/User\s+FAIL\s+USER_DELETED/);
      expect(refused.stdout).toContain(`fix: user ${w.ids.dora} was deleted`);
    });

    it('needs a token argument and the admin credential', async () => {
      expect((await cli('diagnose')).code).toBe(2);
      const noCred = await run(process.execPath, [CLI, 'diagnose', 'x.y.z'], {
        env: { PATH: process.env.PATH, RESOLVER_URL: w.app.url },
      }).catch((e) => e);
      expect(noCred.code).toBe(1);
      expect(noCred.stderr).toContain('ADMIN_TOKEN');
    });
  });
});
