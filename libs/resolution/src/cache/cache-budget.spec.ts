import { buildConfig } from '@resolver/config';
import { cacheBudgetBytes, cacheBudgetWarning } from './cache-budget';

const cacheOf = (cache: Record<string, unknown>) =>
  buildConfig({ cache }, {}, { source: 'test.yaml', baseDir: '/' }).cache;

describe('cache budget', () => {
  it('default caps fit well inside the 192 MB heap the service is started with', () => {
    const defaults = cacheOf({});
    expect(cacheBudgetBytes(defaults) / 2 ** 20).toBeLessThan(96);
    expect(cacheBudgetWarning(defaults, 192 * 2 ** 20)).toBeUndefined();
  });

  it('names the cache fields when the caps would not fit the heap limit', () => {
    const big = cacheOf({ users: { maxEntries: 1_000_000 } });
    expect(cacheBudgetWarning(big, 192 * 2 ** 20)).toMatch(
      /^cache\.users\.maxEntries .* need about 1\d{3} MB of heap .* 192 MB heap limit/,
    );
  });

  it('caches switched off need nothing', () => {
    expect(cacheBudgetBytes(cacheOf({ enabled: false, users: { maxEntries: 10 ** 7 } }))).toBe(0);
  });
});
