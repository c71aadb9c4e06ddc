import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const ESLINT = join(ROOT, 'node_modules/.bin/eslint');

/** Runs ESLint in the repository root; resolves with its stdout (exit 1 = problems found). */
function eslint(args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(ESLINT, args, { cwd: ROOT }, (error, stdout) => {
      if (error && error.code !== 1) return reject(new Error(`eslint: ${error.message}`));
      resolve(stdout);
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** The lines of `text` (linted as `file`) that the boundary rule refuses. */
async function refused(file: string, text: string): Promise<string[]> {
  const out = await eslint(
    [
      '--config',
      'test/support/boundaries.eslint.config.mjs',
      '--stdin',
      '--stdin-filename',
      file,
      '--format',
      'json',
    ],
    text,
  );
  const [result] = JSON.parse(out) as { messages: { ruleId: string; line: number }[] }[];
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'boundaries/imports')
    .map((m) => text.split('\n')[m.line - 1] ?? '');
}

/**
 * The lint keeps the apps' boundaries (docs/architecture.md): a feature imports only shared/,
 * transport/ and libs; no app imports another app; the bench imports no app. The repository's
 * config turns the rule on for every app and bench file, and the rule refuses exactly the
 * crossing imports put into real files' paths.
 */
describe('import boundaries', () => {
  it.each([
    'apps/resolver/src/diagnose/diagnose.module.ts',
    'apps/resolver/src/shared/errors/http-error-path.ts',
    'apps/cli/src/resolve.command.ts',
    'bench/baselines.ts',
  ])('the repository config enforces the rule on %s', async (file) => {
    const config = JSON.parse(await eslint(['--print-config', file])) as {
      rules: Record<string, unknown>;
    };
    expect(config.rules['boundaries/imports']).toEqual([2]);
  });

  it('refuses what crosses a boundary and lets through what does not', async () => {
    const feature = [
      "export { AdminController } from '../admin/admin.controller';",
      "export { AppModule } from '../app.module';",
      "export { Readiness } from '../health/readiness';",
      "export { HTTP_METHODS } from '../shared/http-methods';",
      "export { hostPort } from '../transport/host-port';",
      "export { DiagnoseController } from './diagnose.controller';",
    ].join('\n');
    const shared = [
      "export { ScimOperation } from '../../scim/scim-client.interceptor';",
      "export { SCIM_PATHS } from '../../transport/error-surface';",
      "export { ADMIN_CHALLENGE } from '../admin-credential.guard';",
    ].join('\n');
    const cli = [
      "export { hostPort } from '../../resolver/src/transport/host-port';",
      "export { protoFiles } from '@resolver/contract';",
    ].join('\n');
    const bench = [
      "export { hostPort } from '../apps/resolver/src/transport/host-port';",
      "export const later = () => import('apps/resolver/src/transport/host-port');",
      "export { protoFiles } from '@resolver/contract';",
    ].join('\n');
    expect(await refused('apps/resolver/src/diagnose/diagnose.module.ts', feature)).toEqual(
      feature.split('\n').slice(0, 3),
    );
    expect(await refused('apps/resolver/src/shared/errors/http-error-path.ts', shared)).toEqual(
      shared.split('\n').slice(0, 1),
    );
    expect(await refused('apps/cli/src/resolve.command.ts', cli)).toEqual(
      cli.split('\n').slice(0, 1),
    );
    expect(await refused('bench/baselines.ts', bench)).toEqual(bench.split('\n').slice(0, 2));
  });
});
