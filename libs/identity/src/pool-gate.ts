import { DatabaseError, type Pool, type PoolClient, type QueryConfig, type QueryResult } from 'pg';
import { ResolutionError } from '@resolver/reasons';

/** pg-pool's message when a queued `connect()` waited its `connectionTimeoutMillis` in vain. */
const POOL_QUEUE_TIMEOUT = 'timeout exceeded when trying to connect';

/** SQLSTATEs that say the server gave up on the statement, not that it answered it. */
const NOT_ANSWERED = new Set(['57014', '55P03', '57P01', '57P02', '57P03']);

/** A timer this late says the process itself is saturated (its event loop is behind). */
const EVENT_LOOP_BEHIND_MS = 200;

/**
 * A wait for a pool connection that ended without one while no statement was answered: the
 * store is not answering (an outage), so the store call reports USER_STORE_UNAVAILABLE.
 */
export class PoolWaitTimeout extends Error {
  override readonly name = 'PoolWaitTimeout';
}

/**
 * The resolve path's way onto the pool (lookup, JIT, revocation): a connection is waited for at
 * most `database.connectTimeoutMs` and never past the caller's deadline, and a statement is
 * never started once that deadline has passed (the answer has gone out; a write now would
 * happen after it).
 *
 * A wait that ends without a connection is told apart by what the store did meanwhile. When
 * some statement of this pool was answered while the caller waited, the store is up and the
 * pool is busier than it can serve: USER_STORE_OVERLOADED (same 503 as an outage, its own
 * reason, log detail and Retry-After); so it is when the wait ended far later than its bound
 * (this process was too busy to read the store's answers). Otherwise the store is not
 * answering: an outage, USER_STORE_UNAVAILABLE after the bounded retry. A wait is therefore bounded in time for every
 * caller, which bounds the queue to what arrives within that time.
 */
export class PoolGate {
  private static readonly gates = new WeakMap<Pool, PoolGate>();
  /** When a statement through this gate was last answered by the server (epoch ms). */
  private lastAnsweredAt = 0;

  private constructor(private readonly pool: Pool) {}

  /** The one gate of `pool` (its repositories share what it has seen of the store). */
  static of(pool: Pool): PoolGate {
    let gate = PoolGate.gates.get(pool);
    if (!gate) PoolGate.gates.set(pool, (gate = new PoolGate(pool)));
    return gate;
  }

  /** Requests wait for a connection now, and a statement was answered since `sinceMs`. */
  busySince(sinceMs: number): boolean {
    return this.pool.waitingCount > 0 && this.answeredSince(sinceMs);
  }

  /** The server answered some statement of this pool since `sinceMs` (epoch ms). */
  answeredSince(sinceMs: number): boolean {
    return this.lastAnsweredAt >= sinceMs;
  }

  /** One statement on a pooled connection, started only before `deadlineAt` (epoch ms). */
  query<R extends object>(config: QueryConfig, deadlineAt?: number): Promise<QueryResult<R>> {
    return this.withClient(
      (client) => client.query<R & Record<string, unknown>>(config),
      deadlineAt,
    );
  }

  /**
   * `work` on one pooled connection, taken as {@link query} takes it. The connection goes back
   * to the pool afterwards, and is closed instead when the failure was not the server's answer
   * (a broken socket, a client-side timeout with the statement still running).
   */
  async withClient<T>(work: (client: PoolClient) => Promise<T>, deadlineAt?: number): Promise<T> {
    const client = await this.connect(deadlineAt);
    // A checked-out client's socket errors are ours to take (pg-pool listens only while it is
    // idle); the statement in flight fails with them too, and the connection is not reused.
    let broken: Error | undefined;
    const onError = (error: Error) => void (broken ??= error);
    client.on('error', onError);
    try {
      const result = await work(client);
      this.lastAnsweredAt = Date.now();
      client.removeListener('error', onError);
      client.release(broken);
      return result;
    } catch (error) {
      const answered = error instanceof DatabaseError && !NOT_ANSWERED.has(error.code ?? '');
      if (answered) this.lastAnsweredAt = Date.now();
      client.removeListener('error', onError);
      client.release(broken ?? (error instanceof DatabaseError ? undefined : (error as Error)));
      throw error;
    }
  }

  private async connect(deadlineAt: number | undefined): Promise<PoolClient> {
    const started = Date.now();
    const budget = deadlineAt === undefined ? Infinity : deadlineAt - started;
    if (budget <= 0)
      throw new ResolutionError(
        'USER_STORE_UNAVAILABLE',
        "not started: the caller's deadline had passed before the store was asked",
      );
    let client: PoolClient;
    try {
      // pg-pool bounds a wait by connectionTimeoutMillis; a shorter budget needs its own timer.
      client =
        budget < (this.pool.options.connectionTimeoutMillis || Infinity)
          ? await this.connectWithin(budget)
          : await this.pool.connect();
    } catch (error) {
      if (error instanceof PoolWaitTimeout || (error as Error)?.message === POOL_QUEUE_TIMEOUT)
        throw this.waitFailed(started, budget, error);
      throw error;
    }
    if (deadlineAt !== undefined && Date.now() >= deadlineAt) {
      // The connection came, too late: the caller has been answered. Nothing is started.
      client.release();
      throw this.waitFailed(started, budget);
    }
    return client;
  }

  /** `pool.connect()` that gives up after `ms`; a connection that comes later goes straight back. */
  private connectWithin(ms: number): Promise<PoolClient> {
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new PoolWaitTimeout(`no pool connection within ${Math.round(ms)} ms`));
      }, ms);
      this.pool.connect().then(
        (client) => {
          if (late) return client.release();
          clearTimeout(timer);
          resolve(client);
        },
        (error: Error) => {
          if (late) return;
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** The error of a wait for a connection that ended without one (see the class comment). */
  private waitFailed(started: number, budget: number, cause?: unknown): Error {
    const waitedMs = Date.now() - started;
    const waited = `waited ${waitedMs} ms for a pool connection`;
    const bound = Math.min(budget, this.pool.options.connectionTimeoutMillis || Infinity);
    const limit = Number.isFinite(bound) ? ` (bound ${Math.round(bound)} ms)` : '';
    const busy = `all ${this.pool.totalCount} were busy and ${this.pool.waitingCount} requests waiting`;
    if (this.lastAnsweredAt >= started)
      return new ResolutionError(
        'USER_STORE_OVERLOADED',
        `overloaded: ${waited}${limit}; ${busy}, while the store kept answering`,
        { cause },
      );
    // The timer fired well after the bound: this process is too busy to read the answers the
    // store sends (which is why none was seen), not waiting on a store that does not answer.
    const behindMs = waitedMs - bound;
    if (behindMs > EVENT_LOOP_BEHIND_MS)
      return new ResolutionError(
        'USER_STORE_OVERLOADED',
        `overloaded: ${waited}${limit}; ${busy}, and this process ran ${Math.round(behindMs)} ms behind`,
        { cause },
      );
    return new PoolWaitTimeout(
      `${waited}${limit}, and no statement was answered meanwhile: the store is not answering`,
      { cause },
    );
  }
}
