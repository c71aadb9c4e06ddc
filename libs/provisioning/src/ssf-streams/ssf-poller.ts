import type { SsfTransmitterConfig } from '@resolver/config';
import type { SsfStreamRecord, SsfStreamRepository } from '@resolver/identity';
import {
  IssuerMismatchError,
  pollTransmitter,
  TransmitterError,
  type TransmitterFetch,
  transmitterFetch,
} from '@resolver/tokens';
import { AdminError } from '../admin/admin-error';
import type { SsfStreamManagement } from './stream-management';

/** What the receiver made of one SET (RFC 8935 §2.3 errors for a refusal). */
export type SetVerdict =
  | { readonly result: 'ok' | 'duplicate' | 'ignored' }
  | { readonly result: 'err'; readonly err: string; readonly description: string };

/**
 * Verifies and applies one SET from a transmitter. Throws when it could not decide (the store
 * is down): the SET is then neither acknowledged nor refused, and the transmitter delivers it again.
 */
export type SetSink = (transmitter: string, set: string) => Promise<SetVerdict>;

/** The one-poller lock (a Postgres advisory lock in production). */
export interface PollerLock {
  tryAcquire(): Promise<boolean>;
  held(): boolean;
  release(): Promise<void>;
}

/** How a poll cycle ended, for the metric and the log. */
export type PollResult = 'ok' | 'failed' | 'refused' | 'standby';

export interface PollerObserver {
  /** One poll request's outcome (`refused`: discovery named another issuer; nothing polled). */
  polled(transmitter: string, result: PollResult, detail?: string): void;
  /** The transmitter's row as last read (lag and status gauges). */
  record(transmitter: string, record: SsfStreamRecord | undefined): void;
}

/** At most this many polls back to back while the transmitter says `moreAvailable`. */
export const MAX_DRAIN_POLLS = 20;

interface Loop {
  readonly t: SsfTransmitterConfig;
  readonly lock: PollerLock;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  failures: number;
  lastError?: string;
  /** Acknowledgements and errors not yet sent (carried to the next poll after a failure). */
  readonly ack: string[];
  readonly setErrs: Map<string, { err: string; description: string }>;
}

/**
 * RFC 8936 poll delivery for each transmitter configured with `delivery.poll`: one replica polls
 * at a time (whoever holds the transmitter's Postgres advisory lock; the others stand by and try
 * again each interval, so a killed holder is replaced within one interval). Each SET polled goes
 * to the receiver; what it accepted (applied, a replay, an unknown event) is acknowledged, what
 * it refused is reported in `setErrs` with its error, and what it could not decide is neither
 * (the transmitter delivers it again). `moreAvailable` polls again at once, bounded by
 * {@link MAX_DRAIN_POLLS}; otherwise every `intervalSeconds`, and while the transmitter fails,
 * with exponential backoff up to `maxBackoffSeconds`. Effects reach the other replicas through
 * the database's change notifications, since every action is a write.
 */
export class SsfPoller {
  private readonly loops: Loop[];
  private stopped = false;

  constructor(
    transmitters: readonly SsfTransmitterConfig[],
    private readonly management: SsfStreamManagement,
    private readonly streams: SsfStreamRepository,
    private readonly sink: SetSink,
    lockFor: (transmitter: string) => PollerLock,
    private readonly observer: PollerObserver,
    private readonly now: () => Date,
    private readonly fetchJson: TransmitterFetch = transmitterFetch,
  ) {
    this.loops = transmitters
      .filter((t) => t.delivery.poll !== undefined)
      .map((t) => ({ t, lock: lockFor(t.name), failures: 0, ack: [], setErrs: new Map() }));
  }

  start(): void {
    for (const loop of this.loops) this.schedule(loop, 0);
  }

  /** Whether this replica polls the transmitter now. */
  holds(transmitter: string): boolean {
    return this.loops.find((l) => l.t.name === transmitter)?.lock.held() ?? false;
  }

  /**
   * Polls now (an operator's "poll now"): on this replica if it holds or can take the lock;
   * CONFLICT when another replica polls this transmitter.
   */
  async pollNow(transmitter: string): Promise<{ polled: PollResult; sets: number }> {
    const loop = this.loops.find((l) => l.t.name === transmitter);
    if (!loop) {
      this.management.transmitter(transmitter);
      throw new AdminError('INVALID', `transmitter ${transmitter} is not polled`, 'name');
    }
    await loop.running;
    if (!(await loop.lock.tryAcquire()))
      throw new AdminError('CONFLICT', `another replica polls ${transmitter} now`, 'name');
    let sets = 0;
    const result = await this.track(loop, async () => {
      sets = await this.drain(loop);
    });
    if (result === 'failed' || result === 'refused')
      throw new AdminError('UPSTREAM', `polling ${transmitter} failed: ${loop.lastError ?? ''}`);
    return { polled: result, sets };
  }

  /** Stops polling, waits for a poll in flight (bounded by its timeout), releases the locks. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const loop of this.loops) clearTimeout(loop.timer);
    await Promise.all(
      this.loops.map(async (loop) => {
        await loop.running?.catch(() => undefined);
        await loop.lock.release();
      }),
    );
  }

  private schedule(loop: Loop, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(loop.timer);
    loop.timer = setTimeout(() => void this.cycle(loop), delayMs);
    loop.timer.unref();
  }

  private async cycle(loop: Loop): Promise<void> {
    if (this.stopped) return;
    const poll = loop.t.delivery.poll;
    if (!poll) return;
    let result: PollResult = 'standby';
    if (await loop.lock.tryAcquire()) {
      result = await this.track(loop, async () => {
        await this.drain(loop);
      });
    } else {
      loop.failures = 0;
    }
    await this.observe(loop);
    const intervalMs = poll.intervalSeconds * 1_000;
    const delay =
      result === 'failed' || result === 'refused'
        ? Math.min(
            poll.maxBackoffSeconds * 1_000,
            intervalMs * 2 ** Math.min(loop.failures - 1, 20),
          )
        : intervalMs;
    this.schedule(loop, delay);
  }

  /** Runs one guarded poll (cycles and "poll now" never overlap) and records how it went. */
  private async track(loop: Loop, work: () => Promise<void>): Promise<PollResult> {
    let done!: () => void;
    const running = loop.running;
    loop.running = new Promise((r) => (done = r));
    await running;
    const name = loop.t.name;
    try {
      await work();
      loop.failures = 0;
      loop.lastError = undefined;
      this.observer.polled(name, 'ok');
      return 'ok';
    } catch (error) {
      loop.failures++;
      const refused = error instanceof IssuerMismatchError;
      const detail = describe(error);
      loop.lastError = detail;
      this.observer.polled(name, refused ? 'refused' : 'failed', detail);
      await this.streams
        .recordPoll(name, { at: this.now(), ok: false, error: detail })
        .catch(() => undefined);
      return refused ? 'refused' : 'failed';
    } finally {
      done();
    }
  }

  /** Polls until the transmitter has nothing more (bounded); returns how many SETs came. */
  private async drain(loop: Loop): Promise<number> {
    const poll = loop.t.delivery.poll;
    if (!poll) return 0;
    const target = await this.management.pollTarget(loop.t.name);
    let received = 0;
    // The lock is checked on its own connection before every poll: a holder whose session
    // ended (its lock gone to another replica) stops at once instead of at its next cycle.
    for (let i = 0; i < MAX_DRAIN_POLLS && !this.stopped && (await loop.lock.tryAcquire()); i++) {
      const ack = loop.ack.splice(0);
      const setErrs = new Map(loop.setErrs);
      loop.setErrs.clear();
      let answer;
      try {
        answer = await pollTransmitter(
          target,
          { maxEvents: poll.maxEvents, returnImmediately: poll.returnImmediately, ack, setErrs },
          this.fetchJson,
        );
      } catch (error) {
        // Not delivered: send them with the next poll.
        loop.ack.unshift(...ack);
        for (const [jti, e] of setErrs) loop.setErrs.set(jti, e);
        throw error;
      }
      received += answer.sets.size;
      for (const [jti, set] of answer.sets) {
        const verdict = await this.sink(loop.t.name, set);
        if (verdict.result === 'err')
          loop.setErrs.set(jti, { err: verdict.err, description: verdict.description });
        else loop.ack.push(jti);
      }
      await this.streams.recordPoll(loop.t.name, {
        at: this.now(),
        ok: true,
        eventAt: answer.sets.size ? this.now() : undefined,
      });
      if (!answer.moreAvailable) break;
    }
    // Acknowledge what the last answer brought now, not an interval later (RFC 8936 §2.4: an
    // acknowledgement-only poll asks for no events).
    if ((loop.ack.length || loop.setErrs.size) && loop.lock.held() && !this.stopped) {
      const ack = loop.ack.splice(0);
      const setErrs = new Map(loop.setErrs);
      loop.setErrs.clear();
      try {
        await pollTransmitter(
          target,
          { maxEvents: 0, returnImmediately: true, ack, setErrs },
          this.fetchJson,
        );
      } catch {
        loop.ack.unshift(...ack);
        for (const [jti, e] of setErrs) loop.setErrs.set(jti, e);
      }
    }
    return received;
  }

  private async observe(loop: Loop): Promise<void> {
    try {
      this.observer.record(loop.t.name, await this.streams.get(loop.t.name));
    } catch {
      // The store is down: the gauges keep their last reading (the lag still grows).
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof TransmitterError || error instanceof AdminError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : 'failed';
}
