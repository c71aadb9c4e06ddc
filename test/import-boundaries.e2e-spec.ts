import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** The boundary messages ESLint (the repository's own config) reports for `text` as `file`. */
function boundaryErrors(file: string, text: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(ROOT, 'node_modules/.bin/eslint'),
      ['--stdin', '--stdin-filename', file, '--format', 'json'],
      { cwd: ROOT },
      (error, stdout) => {
        // ESLint exits 1 when it found problems; anything else is a failure to lint.
        if (error && error.code !== 1) return reject(new Error(`eslint: ${error.message}`));
        const [result] = JSON.parse(stdout) as { messages: { ruleId: string; line: number }[] }[];
        resolve(
          (result?.messages ?? [])
            .filter((m) => m.ruleId === 'boundaries/imports')
            .map((m) => text.split('\n')[m.line - 1] ?? ''),
        );
      },
    );
    child.stdin?.end(text);
  });
}

/**
 * The lint keeps the app's boundaries (README "Layout"): a feature imports only shared/,
 * transport/ and libs; no app imports another app; the bench imports no app. Each case lints a
 * real file's path with imports put in, and reads which lines the boundary rule refused.
 */
describe('import boundaries', () => {
  it('refuses what crosses a boundary and lets through what does not', async () => {
    const feature = [
      "export { ZodPipe } from '../admin/zod.pipe';",
      "export { AppModule } from '../app.module';",
      "export { Readiness } from '../health/readiness';",
      "export { HTTP_METHODS } from '../shared/http-methods';",
      "export { hostPort } from '../transport/host-port';",
      "export { DiagnoseController } from './diagnose.controller';",
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
    const [fromFeature, fromCli, fromBench] = await Promise.all([
      boundaryErrors('apps/resolver/src/diagnose/diagnose.module.ts', feature),
      boundaryErrors('apps/cli/src/resolve.command.ts', cli),
      boundaryErrors('bench/baselines.ts', bench),
    ]);
    expect(fromFeature).toEqual(feature.split('\n').slice(0, 3));
    expect(fromCli).toEqual(cli.split('\n').slice(0, 1));
    expect(fromBench).toEqual(bench.split('\n').slice(0, 2));
  }, 120_000);
});
