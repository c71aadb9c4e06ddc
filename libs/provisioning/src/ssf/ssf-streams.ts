import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { SsfConfig } from '@resolver/config';
import type {
  ReceivedSetRepository,
  TransmitterState,
  TransmitterStateRepository,
} from '@resolver/identity';
import type {
  Clock,
  ResolverLogger,
  ResolverMetrics,
  SsfStreamSnapshot,
} from '@resolver/observability';

/** How often the streams' state is read for the metrics (any replica may have received). */
export const STREAM_SNAPSHOT_INTERVAL_MS = 10_000;
/** How often processed `jti`s past the retention are purged. */
export const JTI_PURGE_INTERVAL_MS = 3_600_000;

/** One transmitter's stream as the operator sees it. */
export interface StreamView {
  readonly transmitter: string;
  readonly issuer: string;
  readonly delivery: readonly ('push' | 'poll')[];
  readonly status: SsfStreamSnapshot['status'];
  readonly statusReason: string | null;
  readonly lastEventAt: Date | null;
  readonly verifiedAt: Date | null;
  readonly silenceAlertSeconds?: number;
}

/**
 * The streams' state for the operator (console, metrics): a snapshot of `ssf_transmitters`
 * refreshed every {@link STREAM_SNAPSHOT_INTERVAL_MS}, and the purge of processed `jti`s past
 * `ssf.jtiRetentionSeconds` (any replica may run it; the DELETE is idempotent).
 */
export class SsfStreams implements OnModuleInit, OnModuleDestroy {
  private snapshot: readonly TransmitterState[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: SsfConfig,
    private readonly states: TransmitterStateRepository,
    private readonly received: ReceivedSetRepository,
    private readonly clock: Clock,
    metrics: ResolverMetrics,
    private readonly log: ResolverLogger,
  ) {
    for (const t of config.transmitters)
      if (t.silenceAlertSeconds !== undefined)
        metrics.ssfSilenceThreshold.labels(t.name).set(t.silenceAlertSeconds);
    this.watchingSinceMs = clock.nowMs();
    metrics.trackSsf(() => this.snapshots());
  }

  /**
   * When this replica began to watch the transmitters: a transmitter that never sent a SET is
   * silent since then, so its age grows from boot and the silence alert can fire for a stream
   * that was never delivered at all (instead of no series at all).
   */
  private readonly watchingSinceMs: number;

  onModuleInit(): void {
    if (this.config.transmitters.length === 0) return;
    void this.refresh();
    void this.purge();
    this.timers = [
      setInterval(() => void this.refresh(), STREAM_SNAPSHOT_INTERVAL_MS),
      setInterval(() => void this.purge(), JTI_PURGE_INTERVAL_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  onModuleDestroy(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Reads the streams' state now (the console asks; the metrics read the last snapshot). */
  async refresh(): Promise<readonly StreamView[]> {
    try {
      this.snapshot = await this.states.list();
    } catch (error) {
      this.log.pino.warn({ err: (error as Error).message }, 'ssf: stream state not readable');
    }
    return this.views();
  }

  /** Each configured transmitter with what the last snapshot says of it. */
  views(): StreamView[] {
    return this.config.transmitters.map((t) => {
      const s = this.snapshot.find((x) => x.name === t.name);
      return {
        transmitter: t.name,
        issuer: t.issuer,
        delivery: [
          ...(t.delivery.push ? (['push'] as const) : []),
          ...(t.delivery.poll ? (['poll'] as const) : []),
        ],
        status: s?.streamStatus ?? 'unknown',
        statusReason: s?.streamStatusReason ?? null,
        lastEventAt: s?.lastEventAt ?? null,
        verifiedAt: s?.verifiedAt ?? null,
        silenceAlertSeconds: t.silenceAlertSeconds,
      };
    });
  }

  private snapshots(): SsfStreamSnapshot[] {
    return this.views().map((v) => ({
      transmitter: v.transmitter,
      status: v.status,
      lastEventAtMs: v.lastEventAt?.getTime() ?? this.watchingSinceMs,
    }));
  }

  /** Deletes processed `jti`s older than the retention; returns how many. */
  async purge(): Promise<number> {
    const before = new Date(this.clock.nowMs() - this.config.jtiRetentionSeconds * 1000);
    try {
      return await this.received.purgeReceivedBefore(before);
    } catch (error) {
      this.log.pino.warn({ err: (error as Error).message }, 'ssf: jti purge failed');
      return 0;
    }
  }
}
