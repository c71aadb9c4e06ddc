/** A SET waiting for its poll; `control`: a stream event, delivered even while not enabled. */
export interface QueuedSet {
  readonly jti: string;
  readonly set: string;
  readonly control: boolean;
  sentAt?: number;
}

/**
 * One stream's SETs at the transmitter fixture, in order: delivered by polls, dropped when
 * acknowledged or refused, delivered again when unanswered for `redeliverAfterMs`; long polls
 * wait here for the next SET.
 */
export class SetQueue {
  private readonly items: QueuedSet[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly redeliverAfterMs: number) {}

  get size(): number {
    return this.items.length;
  }

  add(jti: string, set: string, control: boolean): void {
    this.items.push({ jti, set, control });
    this.wake();
  }

  /** SETs never sent, or sent long enough ago without an answer (only stream events if asked). */
  due(max: number, controlOnly = false): QueuedSet[] {
    const cutoff = Date.now() - this.redeliverAfterMs;
    return this.items
      .filter((q) => (q.sentAt === undefined || q.sentAt <= cutoff) && (q.control || !controlOnly))
      .slice(0, max);
  }

  drop(jti: string): void {
    const i = this.items.findIndex((q) => q.jti === jti);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** Resolves on the next SET added, on {@link wake}, or after `ms`. */
  waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
