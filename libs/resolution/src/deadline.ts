import { ResolutionError } from '@resolver/reasons';

/** Which dependency a resolution was waiting on when its deadline passed. */
export type Phase = 'request' | 'keys' | 'introspection' | 'store';

/**
 * The reason a resolution that ran out of time is answered with: the dependency it waited on.
 * `overloaded`: why the time went to load, not to a dependency that is down (requests queued
 * for a store connection while the store kept answering, or this process ran behind): then the
 * answer is USER_STORE_OVERLOADED, not an outage.
 */
export function deadlineExceeded(
  phase: Phase,
  timeoutMs: number,
  overloaded?: string,
): ResolutionError {
  if (phase === 'keys')
    return new ResolutionError(
      'KEYS_UNAVAILABLE',
      `signing keys not available within ${timeoutMs} ms`,
    );
  if (phase === 'introspection')
    return new ResolutionError(
      'INTROSPECTION_UNAVAILABLE',
      `the introspection endpoint did not answer within ${timeoutMs} ms`,
    );
  if (overloaded)
    return new ResolutionError(
      'USER_STORE_OVERLOADED',
      `overloaded: no answer within ${timeoutMs} ms; ${overloaded}`,
    );
  return new ResolutionError(
    'USER_STORE_UNAVAILABLE',
    `user store did not answer within ${timeoutMs} ms`,
  );
}

/** A sweep this late says the event loop is behind: the process is saturated (CPU). */
const BEHIND_MS = 200;

/** How often pending deadlines are checked: a deadline fires at most this much late. */
export const DEADLINE_GRANULARITY_MS = 25;

interface Pending {
  readonly due: number;
  readonly expire: () => void;
  /** Where the entry sits in the sweeper's list; -1 once removed. */
  slot: number;
}

/**
 * One shared sweep over every pending deadline instead of a timer per request: arming and
 * clearing a timer for each resolution showed up on the hot path, and a deadline of seconds does
 * not need millisecond precision. The sweep timer runs only while something is pending (under
 * load, continuously; when idle, not at all).
 *
 * Pending entries sit in an array (removal swaps the last entry in), not a `Set`: every
 * resolution adds and removes one, and V8 links each outgrown `Set` table to its successor, so
 * a `Set` churned this fast drags each request's closures into old space (a young-generation
 * collection keeps what a dead old table points to). In the store scenario that was a major GC
 * every 2 s and stalls of up to 140 ms; see the README's Performance section.
 */
class DeadlineSweeper {
  private readonly pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the last sweep ran, and when one last ran {@link BEHIND_MS} late (epoch ms). */
  private lastSweepAt = 0;
  behindAt = 0;

  add(entry: Pending): void {
    entry.slot = this.pending.length;
    this.pending.push(entry);
    if (!this.timer) {
      this.lastSweepAt = Date.now();
      this.timer = setInterval(() => this.sweep(), DEADLINE_GRANULARITY_MS);
      this.timer.unref();
    }
  }

  delete(entry: Pending): void {
    this.remove(entry);
    if (this.pending.length === 0) this.stop();
  }

  private remove(entry: Pending): void {
    const slot = entry.slot;
    if (slot < 0) return;
    const last = this.pending.pop() as Pending;
    if (last !== entry) {
      this.pending[slot] = last;
      last.slot = slot;
    }
    entry.slot = -1;
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    // The sweep is free (nothing else measures the loop): an interval this late means every
    // request of this process waited as long for its turn.
    if (now - this.lastSweepAt - DEADLINE_GRANULARITY_MS > BEHIND_MS) this.behindAt = now;
    this.lastSweepAt = now;
    // Backwards, so that a removal (which moves the last entry into the gap) skips nothing.
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const entry = this.pending[i] as Pending;
      if (entry.due <= now) {
        this.remove(entry);
        entry.expire();
      }
    }
    if (this.pending.length === 0) this.stop();
  }
}

const sweeper = new DeadlineSweeper();

/**
 * Why time since `sinceMs` (epoch ms) went to this process's own load, if it did: a pending
 * deadline's check ran more than {@link BEHIND_MS} late (the event loop was behind).
 */
export function processBehindSince(sinceMs: number): string | undefined {
  return sweeper.behindAt >= sinceMs
    ? `this process ran more than ${BEHIND_MS} ms behind (its CPU is saturated)`
    : undefined;
}

/**
 * Settles with `work`, or rejects with `onTimeout()` once `timeoutMs` have passed (checked every
 * {@link DEADLINE_GRANULARITY_MS}), whichever comes first. The late work is abandoned, not
 * cancelled: its own bounds (statement timeout, fetch timeout) end it, and its rejection is
 * observed here.
 */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const entry: Pending = {
      due: Date.now() + timeoutMs,
      expire: () => reject(onTimeout()),
      slot: -1,
    };
    sweeper.add(entry);
    work.then(
      (value) => {
        sweeper.delete(entry);
        resolve(value);
      },
      (error: unknown) => {
        sweeper.delete(entry);
        // The original rejection, whatever it is: this only adds a deadline.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}
