/** Hit/miss/eviction counts, reported to metrics by name. */
export interface CacheObserver {
  hit(): void;
  miss(): void;
  evict(count?: number): void;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  /** Looked up since it last reached the front of the eviction order. */
  used: boolean;
}

const NOOP: CacheObserver = { hit: () => undefined, miss: () => undefined, evict: () => undefined };

/**
 * A map bounded by entry count and by a per-entry deadline. Eviction is "second chance" (CLOCK):
 * a hit only marks the entry as used; when the bound is passed, the oldest entry goes unless it
 * was used since it last reached the front, in which case it moves to the back, unmarked. That
 * approximates least-recently-used without moving an entry on every hit, which (as a Map delete
 * and re-insert per lookup) was the cache's cost on the warm path. Time comes from the caller
 * so tests can freeze it.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

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
    entry.used = true;
    this.observer.hit();
    return entry.value;
  }

  /** Looks without counting or marking the entry used (diagnosis). */
  peek(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > now ? entry.value : undefined;
  }

  /** Unexpired entries, without counting or marking them used (snapshots, diagnosis). */
  *live(now: number): IterableIterator<[K, V]> {
    for (const [key, entry] of this.entries) if (entry.expiresAt > now) yield [key, entry.value];
  }

  set(key: K, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    // Room is made before inserting, so the new entry is never the one evicted.
    if (!this.entries.delete(key)) this.makeRoom();
    this.entries.set(key, { value, expiresAt, used: false });
  }

  /** Each pass evicts one entry or clears one mark, so this ends within size + 1 passes. */
  private makeRoom(): void {
    while (this.entries.size >= this.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value as [K, Entry<V>];
      this.entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        this.entries.set(oldest, entry);
      } else {
        this.observer.evict();
      }
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
