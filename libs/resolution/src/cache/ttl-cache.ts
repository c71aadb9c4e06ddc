/** Hit/miss/eviction counts, reported to metrics by name. */
export interface CacheObserver {
  hit(): void;
  miss(): void;
  evict(count?: number): void;
}

interface Entry<K, V> {
  readonly key: K;
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
  private readonly entries = new Map<K, Entry<K, V>>();
  /**
   * The eviction order, oldest first from `head`: each entry of the map once, among entries
   * since replaced or deleted (skipped when they reach the front) and slots already taken
   * (`undefined`). Kept beside the map, not read from it: a Map keeps the slots of deleted
   * entries until it rehashes, and finding its first entry walks over every one of them. With
   * one eviction per insert that walk grew with the cache: ~10 µs per new token with 10,000
   * entries, ~22 µs per new user with 20,000 (node 20, one core), paid by every new token and
   * user once the caches were full. Here each slot is passed once.
   */
  private order: (Entry<K, V> | undefined)[] = [];
  private head = 0;

  constructor(
    readonly maxEntries: number,
    private readonly observer: CacheObserver = NOOP,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K, now: number): V | undefined {
    const value = this.find(key, now);
    if (value === undefined) this.observer.miss();
    else this.observer.hit();
    return value;
  }

  /**
   * {@link get} without counting: a lookup that is counted only once it is known to answer
   * (see {@link countHit}), or else is asked again by a lookup that counts.
   */
  find(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  /** Counts a hit that {@link find} found. */
  countHit(): void {
    this.observer.hit();
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
    // Room is made before inserting, so the new entry is never the one evicted. A replaced
    // entry goes to the back of the order, as a new one does (its old place is skipped).
    if (!this.entries.has(key)) this.makeRoom();
    const entry: Entry<K, V> = { key, value, expiresAt, used: false };
    this.entries.set(key, entry);
    this.enqueue(entry);
  }

  /**
   * Each live entry the front reaches is evicted or loses its mark (and goes to the back), so
   * this ends within size + 1 live entries, past the stale slots before them.
   */
  private makeRoom(): void {
    while (this.entries.size >= this.maxEntries) {
      // Every live entry is queued at or after `head`, so this never runs out while the map is
      // full; if it did, one entry over the bound beats a loop that never ends.
      if (this.head >= this.order.length) break;
      const entry = this.order[this.head];
      this.order[this.head++] = undefined;
      if (entry === undefined || this.entries.get(entry.key) !== entry) continue;
      if (entry.used) {
        entry.used = false;
        this.enqueue(entry);
      } else {
        this.entries.delete(entry.key);
        this.observer.evict();
      }
    }
  }

  private enqueue(entry: Entry<K, V>): void {
    this.order.push(entry);
    // Stale and taken slots are at most as many as the live entries (+ a little) before the
    // order is rebuilt: bounded memory, and each rebuild is paid for by as many inserts.
    if (this.order.length > 2 * this.entries.size + 64) this.compact();
  }

  /** The order again with only its live entries, oldest first. */
  private compact(): void {
    const live: Entry<K, V>[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i];
      if (entry !== undefined && this.entries.get(entry.key) === entry) live.push(entry);
    }
    this.order = live;
    this.head = 0;
  }

  /** Slots in the eviction order (live and stale): bounded by twice the entries, plus 64. */
  get queued(): number {
    return this.order.length - this.head;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.order = [];
    this.head = 0;
  }
}
