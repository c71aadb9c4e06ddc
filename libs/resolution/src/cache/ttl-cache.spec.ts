import fc from 'fast-check';
import { SingleFlight } from './single-flight';
import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('expires entries at their deadline and evicts the least recently used past the bound', () => {
    const counts = { hit: 0, miss: 0, evict: 0 };
    const cache = new TtlCache<string, number>(2, {
      hit: () => counts.hit++,
      miss: () => counts.miss++,
      evict: () => counts.evict++,
    });
    cache.set('a', 1, 100);
    cache.set('b', 2, 100);
    expect(cache.get('a', 50)).toBe(1); // a is now most recent
    cache.set('c', 3, 100); // evicts b
    expect(cache.get('b', 50)).toBeUndefined();
    expect(cache.get('a', 50)).toBe(1);
    expect(cache.get('c', 100)).toBeUndefined(); // deadline reached
    expect(cache.size).toBe(1);
    expect(counts).toEqual({ hit: 2, miss: 2, evict: 1 });
  });

  it('gives a used entry a second chance, never evicts the entry being added, stays bounded', () => {
    const cache = new TtlCache<string, number>(3);
    for (const k of ['a', 'b', 'c']) cache.set(k, 1, 100);
    for (const k of ['a', 'b', 'c']) cache.get(k, 0);
    cache.set('d', 1, 100); // every entry was used: each loses its mark, then the oldest goes
    expect([...cache.live(0)].map(([k]) => k).sort()).toEqual(['b', 'c', 'd']);
    // A hot entry survives a stream of one-off entries (a scan of cold tokens).
    for (let i = 0; i < 100; i++) {
      cache.get('b', 0);
      cache.set(`x${i}`, 1, 100);
      expect(cache.peek(`x${i}`, 0)).toBe(1);
      expect(cache.size).toBe(3);
    }
    expect(cache.peek('b', 0)).toBe(1);
  });

  it('peek neither counts nor refreshes; a zero bound stores nothing', () => {
    const cache = new TtlCache<string, number>(1);
    cache.set('a', 1, 10);
    expect(cache.peek('a', 5)).toBe(1);
    expect(cache.peek('a', 10)).toBeUndefined();
    const off = new TtlCache<string, number>(0);
    off.set('a', 1, 10);
    expect(off.size).toBe(0);
  });
});

/**
 * The cache as it was before it kept its own eviction order: CLOCK read off the Map's order
 * (oldest first, a replaced or re-marked entry moved to the back). The order is now kept beside
 * the map; which entries a cache holds must not have changed.
 */
class MapOrderModel {
  readonly entries = new Map<string, { value: number; expiresAt: number; used: boolean }>();
  evicted = 0;
  constructor(private readonly max: number) {}
  get(key: string, now: number): number | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    e.used = true;
    return e.value;
  }
  set(key: string, value: number, expiresAt: number): void {
    if (this.max <= 0) return;
    if (!this.entries.delete(key))
      while (this.entries.size >= this.max) {
        const [k, e] = this.entries.entries().next().value as [string, { used: boolean }];
        this.entries.delete(k);
        if (e.used) {
          e.used = false;
          this.entries.set(k, e as never);
        } else this.evicted++;
      }
    this.entries.set(key, { value, expiresAt, used: false });
  }
}

describe('TtlCache eviction order', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.nat(24), at: fc.nat(20) }),
    fc.record({ kind: fc.constant('get' as const), key: fc.nat(24), at: fc.nat(20) }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.nat(24), at: fc.constant(0) }),
    fc.record({ kind: fc.constant('clear' as const), key: fc.constant(0), at: fc.constant(0) }),
  );

  it('holds, answers and evicts exactly as CLOCK over the map order did', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }),
        (max, ops) => {
          let evicted = 0;
          const cache = new TtlCache<string, number>(max, {
            hit: () => undefined,
            miss: () => undefined,
            evict: () => void evicted++,
          });
          const model = new MapOrderModel(max);
          let now = 0;
          ops.forEach((o, i) => {
            const key = `k${o.key}`;
            if (o.kind === 'set') {
              cache.set(key, i, now + o.at);
              model.set(key, i, now + o.at);
            } else if (o.kind === 'get') {
              now += o.at % 3; // time moves on, so entries expire
              expect(cache.get(key, now)).toBe(model.get(key, now));
            } else if (o.kind === 'delete') {
              cache.delete(key);
              model.entries.delete(key);
            } else {
              cache.clear();
              model.entries.clear();
            }
            expect(cache.size).toBe(model.entries.size);
            expect(cache.queued).toBeLessThanOrEqual(2 * cache.size + 64);
          });
          const held = [...cache.live(-1)].map(([k, v]) => `${k}=${v}`).sort();
          const expected = [...model.entries].map(([k, e]) => `${k}=${e.value}`).sort();
          expect(held).toEqual(expected);
          expect(evicted).toBe(model.evicted);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays bounded in entries and in its order through a long churn of replaced keys', () => {
    const cache = new TtlCache<string, number>(1000);
    for (let i = 0; i < 50_000; i++) {
      cache.set(`k${i % 1500}`, i, 1e12); // replaces, inserts and evicts
      if (i % 7 === 0) cache.get(`k${(i * 13) % 1500}`, 0);
      if (i % 11 === 0) cache.delete(`k${(i * 17) % 1500}`);
    }
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(cache.queued).toBeLessThanOrEqual(2 * cache.size + 64);
    // The newest entry is always held.
    expect(cache.peek('k' + (49_999 % 1500), 0)).toBe(49_999);
  });
});

describe('SingleFlight', () => {
  it('shares one in-flight call per key and forgets it afterwards', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    let release: (v: number) => void = () => undefined;
    const work = () => {
      calls++;
      return new Promise<number>((r) => (release = r));
    };
    const all = Promise.all([flight.run('k', work), flight.run('k', work), flight.run('k', work)]);
    release(7);
    expect(await all).toEqual([7, 7, 7]);
    expect(calls).toBe(1);
    const again = flight.run('k', async () => 8);
    expect(await again).toBe(8);
  });
});
