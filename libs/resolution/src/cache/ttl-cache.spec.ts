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
