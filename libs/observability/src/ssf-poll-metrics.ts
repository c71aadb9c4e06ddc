import { Counter, Gauge, type Registry } from 'prom-client';

/** How a poll of a transmitter ended (the `result` of `resolver_ssf_polls_total`). */
export const SSF_POLL_RESULTS = ['ok', 'failed', 'refused'] as const;
export type SsfPollResult = (typeof SSF_POLL_RESULTS)[number];

/**
 * Poll delivery (RFC 8936) metrics, in the resolver's registry: polls by result, and the lag,
 * the age of the last successful poll by any replica (read from the database by every replica,
 * so it keeps growing while the transmitter is down, whichever replica holds the poller's lock).
 */
export class SsfPollMetrics {
  readonly polls: Counter<'transmitter' | 'result'>;
  readonly lag: Gauge<'transmitter'>;
  private readonly lastOk = new Map<string, number>();

  constructor(
    registry: Registry,
    transmitters: readonly string[],
    private readonly nowMs: () => number,
    /** Until a poll has succeeded, the lag counts from here (the process's start). */
    private readonly sinceMs: number,
  ) {
    this.polls = new Counter({
      name: 'resolver_ssf_polls_total',
      help: 'Polls of Shared Signals transmitters (RFC 8936) by this replica, by transmitter and result (ok|failed|refused: discovery named another issuer, nothing polled).',
      labelNames: ['transmitter', 'result'] as const,
      registers: [registry],
    });
    this.lag = new Gauge({
      name: 'resolver_ssf_poll_lag_seconds',
      help: 'Seconds since a transmitter was last polled successfully by any replica (since start when never), read at scrape time.',
      labelNames: ['transmitter'] as const,
      registers: [registry],
      // Across WORKERS the freshest reading is the truth (never a sum of ages).
      aggregator: 'min',
      collect: () => this.collect(),
    });
    for (const t of transmitters) for (const r of SSF_POLL_RESULTS) this.polls.labels(t, r).inc(0);
    this.transmitters = transmitters;
  }

  private readonly transmitters: readonly string[];

  /** The last successful poll of a transmitter, as the database said. */
  lastSuccess(transmitter: string, at: Date | undefined): void {
    if (at) this.lastOk.set(transmitter, at.getTime());
  }

  private collect(): void {
    const now = this.nowMs();
    for (const t of this.transmitters)
      this.lag.labels(t).set(Math.max(0, (now - (this.lastOk.get(t) ?? this.sinceMs)) / 1000));
  }
}
