/** Concurrent calls for the same key share one in-flight promise (one query for N misses). */
export class SingleFlight<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();

  run(key: K, work: () => Promise<V>): Promise<V> {
    let promise = this.inflight.get(key);
    if (!promise) {
      promise = work().finally(() => this.inflight.delete(key));
      this.inflight.set(key, promise);
    }
    return promise;
  }
}
