import { ResolutionError } from '@resolver/reasons';

/** Which dependency a resolution was waiting on when its deadline passed. */
export type Phase = 'request' | 'keys' | 'store';

/** The reason a resolution that ran out of time is answered with: the dependency it waited on. */
export function deadlineExceeded(phase: Phase, timeoutMs: number): ResolutionError {
  return phase === 'keys'
    ? new ResolutionError('KEYS_UNAVAILABLE', `signing keys not available within ${timeoutMs} ms`)
    : new ResolutionError(
        'USER_STORE_UNAVAILABLE',
        `user store did not answer within ${timeoutMs} ms`,
      );
}

/** How often pending deadlines are checked: a deadline fires at most this much late. */
export const DEADLINE_GRANULARITY_MS = 25;

interface Pending {
  readonly due: number;
  readonly expire: () => void;
}

/**
 * One shared sweep over every pending deadline instead of a timer per request: arming and
 * clearing a timer for each resolution showed up on the hot path, and a deadline of seconds does
 * not need millisecond precision. The sweep timer runs only while something is pending (under
 * load, continuously; when idle, not at all).
 */
class DeadlineSweeper {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  add(entry: Pending): void {
    this.pending.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), DEADLINE_GRANULARITY_MS);
      this.timer.unref();
    }
  }

  delete(entry: Pending): void {
    this.pending.delete(entry);
    if (this.pending.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.due <= now) {
        this.pending.delete(entry);
        entry.expire();
      }
    }
    if (this.pending.size === 0) this.stop();
  }
}

const sweeper = new DeadlineSweeper();

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
    const entry: Pending = { due: Date.now() + timeoutMs, expire: () => reject(onTimeout()) };
    sweeper.add(entry);
    work.then(
      (value) => {
        sweeper.delete(entry);
        resolve(value);
      },
      (error: unknown) => {
        sweeper.delete(entry);
        reject(error);
      },
    );
  });
}
