import type { ResolverConfig } from '@resolver/config';

/**
 * Heap bytes one entry of each cache holds. Users were measured with V8 (`node --expose-gc`,
 * heapUsed before and after 50,000 typical entries: record, key string, cache entry, id-index
 * entry and principal came to about 1.38 KB); tokens and "not found" answers are estimated
 * from their shape (a lookup key, token info with two dates and two arrays; a key string).
 */
export const BYTES_PER_ENTRY = { users: 1_400, tokens: 1_500, negative: 300 } as const;

/** The heap the caches need at their configured caps. */
export function cacheBudgetBytes(cache: ResolverConfig['cache']): number {
  if (!cache.enabled) return 0;
  return (
    cache.users.maxEntries * BYTES_PER_ENTRY.users +
    cache.tokens.maxEntries * BYTES_PER_ENTRY.tokens +
    cache.negative.maxEntries * BYTES_PER_ENTRY.negative
  );
}

/**
 * A warning for the boot log when full caches would take more than half of the V8 heap limit
 * (`--max-old-space-size`): the process would spend its time collecting garbage, or die when
 * the caches fill, long after boot. Undefined when the caps fit.
 */
export function cacheBudgetWarning(
  cache: ResolverConfig['cache'],
  heapLimitBytes: number,
): string | undefined {
  const need = cacheBudgetBytes(cache);
  if (need <= heapLimitBytes / 2) return undefined;
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return (
    `cache.users.maxEntries / cache.tokens.maxEntries / cache.negative.maxEntries need about ` +
    `${mb(need)} MB of heap when full, more than half the ${mb(heapLimitBytes)} MB heap limit: ` +
    `lower the caps or raise --max-old-space-size`
  );
}
