/**
 * Concurrent calls for the same key share one in-flight promise (one query for N misses).
 *
 * The registry is a null-prototype object, not a `Map`: an entry lives for one store round
 * trip, and V8 links every outgrown `Map` table to its successor, so a `Map` churned this fast
 * drags each request's promise chain into old space (a young-generation collection keeps what a
 * dead old table points to). Measured in the store scenario as a major GC every 2 s; see the
 * README's Performance section.
 */
export class SingleFlight<V> {
  private readonly inflight = Object.create(null) as Record<string, Promise<V>>;

  run(key: string, work: () => Promise<V>): Promise<V> {
    let promise = this.inflight[key];
    if (!promise) {
      promise = work().finally(() => delete this.inflight[key]);
      this.inflight[key] = promise;
    }
    return promise;
  }
}
