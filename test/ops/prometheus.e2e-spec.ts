import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from '../support/database';
import { promtoolCheckMetrics } from '../support/promtool';
import { ResolverHarness } from '../support/resolver-harness';

const run = promisify(execFile);
const PROMETHEUS_DIR = join(__dirname, '..', '..', 'docker', 'prometheus');

/** The alert rules are tested with promtool, and the live /metrics passes promtool's lint. */
describe('Prometheus rules and metrics (promtool)', () => {
  it('alerts.yml is valid and its unit tests pass', async () => {
    const check = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS_DIR });
    expect(check.stdout).toContain('SUCCESS');
    const tests = await run('promtool', ['test', 'rules', 'alerts.test.yml'], {
      cwd: PROMETHEUS_DIR,
    });
    expect(tests.stdout).toContain('SUCCESS');
  });

  it('the live /metrics passes promtool check metrics', async () => {
    const app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('metrics'),
      issuers: [
        {
          issuer: 'https://m.idp.test',
          jwksUri: 'http://127.0.0.1:9/jwks',
          audiences: ['a'],
          algorithms: ['RS256'],
        },
      ],
    });
    try {
      await app.resolveHttp({ token: 'garbage' });
      const metrics = (await app.http('/metrics')).body as string;
      const result = await promtoolCheckMetrics(metrics);
      // Unfiltered, exactly as the README's `curl …/metrics | promtool check metrics` runs it.
      expect(result).toEqual({ code: 0, output: '' });
      expect(metrics).toContain('resolver_resolutions_total');
      // The per-type default gauges stay; only their misnamed _total twins are gone.
      expect(metrics).toMatch(/^nodejs_active_handles\{/m);
      expect(metrics).not.toMatch(/^nodejs_active_\w+_total/m);
    } finally {
      await app.close();
    }
  });
});
