/** Hit/miss/eviction counts, reported to metrics by name. */
export interface CacheObserver {
  hit(): void;
  miss(): void;
  evict(count?: number): void;
}

const NOOP: CacheObserver = { hit: () => undefined, miss: () => undefined, evict: () => undefined };

/**
 * A map bounded by entry count (least recently used goes first) and by a per-entry deadline.
 * Time comes from the caller so tests can freeze it. `Map` keeps insertion order, so re-inserting
 * on a hit makes the first key the least recently used.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    readonly maxEntries: number,
    private readonly observer: CacheObserver = NOOP,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.observer.miss();
      return undefined;
    }
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      this.observer.miss();
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.observer.hit();
    return entry.value;
  }

  /** Looks without counting or refreshing recency (diagnosis). */
  peek(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > now ? entry.value : undefined;
  }

  /** Unexpired entries, without counting or refreshing recency (snapshots, diagnosis). */
  *live(now: number): IterableIterator<[K, V]> {
    for (const [key, entry] of this.entries) if (entry.expiresAt > now) yield [key, entry.value];
  }

  set(key: K, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      this.observer.evict();
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
