import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { type Outcome, REASON_CODES, REASON_TABLE, type ReasonCode } from '@resolver/reasons';
import { FastHistogram } from './fast-histogram';
import { RecentOutcomes } from './recent-outcomes';
import { ERROR_SURFACES, TRANSPORTS, type Transport } from './transport';

/** The issuer label for tokens whose issuer is not configured: never the raw `iss` (cardinality). */
export const UNKNOWN_ISSUER = 'unknown';

/** The database pool as seen at scrape time. */
export interface PoolStats {
  readonly inUse: number;
  readonly idle: number;
  readonly waiting: number;
}

/** Age of the key set an issuer is verifying with (only for fetched key sets). */
export interface KeyAge {
  readonly issuer: string;
  readonly ageSeconds: number;
}

const DEFAULT_GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The resolver's Prometheus metrics, in a registry of their own (tests create several apps in one
 * process). Every (reason, transport, issuer) series exists from boot at zero so that alerts and
 * `rate()` see a reason the first time it happens.
 */
/** The stream statuses the gauge reports (`unknown`: never reported). */
export const SSF_STREAM_STATUSES = ['enabled', 'paused', 'disabled', 'unknown'] as const;

/** What the metrics know of one transmitter's stream. */
export interface SsfStreamSnapshot {
  readonly transmitter: string;
  readonly lastEventAtMs?: number;
  readonly status: (typeof SSF_STREAM_STATUSES)[number];
}

export class ResolverMetrics {
  readonly registry = new Registry();
  /**
   * Hot-path counts wait here as plain numbers and reach their prom-client counters when a
   * registry reads them (every read runs the counters' `collect` first): a prom-client child's
   * `inc` re-hashes and re-validates its labels each time, which showed in the warm-path profile.
   */
  private readonly pending: { count: number; counter: { inc(n: number): void } }[] = [];
  private readonly flush = () => {
    for (const p of this.pending) {
      if (p.count === 0) continue;
      p.counter.inc(p.count);
      p.count = 0;
    }
  };

  readonly resolutions = new Counter({
    name: 'resolver_resolutions_total',
    help: 'Resolutions by outcome (resolved|refused|unavailable), reason code (NONE on success), issuer and transport.',
    labelNames: ['outcome', 'reason', 'issuer', 'transport'] as const,
    registers: [this.registry],
    collect: this.flush,
  });
  readonly duration = new FastHistogram(
    'resolver_resolution_duration_seconds',
    'Time to answer a resolution, by transport and outcome.',
    ['transport', 'outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  readonly jit = new Counter({
    name: 'resolver_jit_provisioning_total',
    help: 'Just-in-time provisioning attempts by issuer and result (created|existing|rejected|error).',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });
  readonly scimRequests = new Counter({
    name: 'resolver_scim_requests_total',
    help: 'SCIM requests by client, operation (e.g. users.create) and result (ok or the SCIM error type / status).',
    labelNames: ['client', 'operation', 'result'] as const,
    registers: [this.registry],
  });
  readonly ssfEvents = new Counter({
    name: 'resolver_ssf_events_total',
    help: 'Shared Signals events (SETs) received, by transmitter, event type (short name or unknown) and result (applied|recorded|stale|unmatched|ignored|unknown_event|duplicate|unavailable, or the RFC 8935 error code).',
    labelNames: ['transmitter', 'event', 'result'] as const,
    registers: [this.registry],
  });
  readonly ssfLastEventAge = new Gauge({
    name: 'resolver_ssf_last_event_age_seconds',
    help: 'Seconds since the last valid event from a transmitter reached any replica (absent before the first), read at scrape time.',
    labelNames: ['transmitter'] as const,
    registers: [this.registry],
    aggregator: 'min',
    collect: () => this.collectSsf(),
  });
  readonly ssfStreamStatus = new Gauge({
    name: 'resolver_ssf_stream_status',
    help: "A transmitter's stream status as last reported (1 for the current one of enabled|paused|disabled|unknown).",
    labelNames: ['transmitter', 'status'] as const,
    registers: [this.registry],
    aggregator: 'max',
  });
  readonly ssfSilenceThreshold = new Gauge({
    name: 'resolver_ssf_silence_threshold_seconds',
    help: "The configured silence after which a transmitter's stream is alerted on (ssf.transmitters[].silenceAlertSeconds).",
    labelNames: ['transmitter'] as const,
    registers: [this.registry],
    aggregator: 'max',
  });
  readonly jwksFetches = new Counter({
    name: 'resolver_jwks_fetches_total',
    help: 'JWKS / discovery fetches by issuer and result (success|failure).',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });
  readonly cacheRequests = new Counter({
    name: 'resolver_cache_requests_total',
    help: 'Cache lookups by cache (token|user|negative) and result (hit|miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
    collect: this.flush,
  });
  readonly cacheEvictions = new Counter({
    name: 'resolver_cache_evictions_total',
    help: 'Entries evicted to stay within the configured bound, by cache.',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });
  readonly listenerUp = new Gauge({
    name: 'resolver_listener_up',
    help: '1 while the Postgres LISTEN connection for cache invalidation is up (caches in use), else 0.',
    registers: [this.registry],
  });
  /**
   * Label children by transport (and reason, for a failure), then issuer: bounded, transports ×
   * (configured issuers + unknown) × (reasons + success). Two Map lookups on strings that exist
   * already; a key built per call was a string allocation (and its flattening) on every answer.
   */
  private readonly recordChildren = new Map<string, Map<string, RecordChildren>>();
  /** The last minutes of answers by reason, for the operator console (no Prometheus needed). */
  readonly recent = new RecentOutcomes();
  readonly internalErrors = new Counter({
    name: 'resolver_internal_errors_total',
    help: 'Requests that failed with an unexpected error (a bug): should stay at zero.',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly dbPool = new Gauge({
    name: 'resolver_db_pool_connections',
    help: 'Postgres pool connections by state (in_use|idle|waiting: requests queued for a connection), read at scrape time.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => this.collectPool(),
  });
  readonly jwksKeysAge = new Gauge({
    name: 'resolver_jwks_keys_age_seconds',
    help: 'Seconds since the key set in use for an issuer was fetched (fetched key sets only), read at scrape time.',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
    collect: () => this.collectKeyAges(),
  });

  private ssfProbe: (() => readonly SsfStreamSnapshot[]) | undefined;
  private poolProbe: (() => PoolStats | undefined) | undefined;
  private keyAgeProbe: (() => readonly KeyAge[]) | undefined;

  constructor(issuers: readonly string[]) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's nodejs_active_{handles,requests,resources}_total are gauges with a counter's
    // suffix, which `promtool check metrics` rejects. The per-type gauges of the same names
    // without _total carry the same numbers (sum them), so the live /metrics lints clean.
    for (const name of DEFAULT_GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);
    for (const transport of TRANSPORTS) {
      for (const issuer of [...issuers, UNKNOWN_ISSUER]) {
        this.resolutions.labels('resolved', 'NONE', issuer, transport).inc(0);
        for (const reason of REASON_CODES) {
          this.resolutions.labels(REASON_TABLE[reason].outcome, reason, issuer, transport).inc(0);
        }
      }
    }
    for (const surface of ERROR_SURFACES) this.internalErrors.labels(surface).inc(0);
    for (const cache of ['token', 'user', 'negative']) {
      this.cacheRequests.labels(cache, 'hit').inc(0);
      this.cacheRequests.labels(cache, 'miss').inc(0);
      this.cacheEvictions.labels(cache).inc(0);
    }
    this.listenerUp.set(0);
    for (const issuer of issuers) {
      for (const result of ['created', 'existing', 'rejected', 'error'])
        this.jit.labels(issuer, result).inc(0);
    }
  }

  /** Hit/miss/eviction counters for one cache. */
  cacheObserver(cache: 'token' | 'user' | 'negative') {
    const hit = this.pendingCount(this.cacheRequests.labels(cache, 'hit'));
    const miss = this.pendingCount(this.cacheRequests.labels(cache, 'miss'));
    const evicted = this.cacheEvictions.labels(cache);
    return {
      hit: () => void hit.count++,
      miss: () => void miss.count++,
      evict: (n = 1) => evicted.inc(n),
    };
  }

  /** A count kept as a plain number until the next registry read (see {@link flush}). */
  private pendingCount(counter: { inc(n: number): void }): { count: number } {
    const p = { count: 0, counter };
    this.pending.push(p);
    return p;
  }

  /** Where the shared-signals gauges read from (the receiver's last snapshot of the streams). */
  trackSsf(probe: () => readonly SsfStreamSnapshot[]): void {
    this.ssfProbe = probe;
  }

  private collectSsf(): void {
    const streams = this.ssfProbe?.();
    if (!streams) return;
    const now = Date.now();
    for (const s of streams) {
      if (s.lastEventAtMs !== undefined)
        this.ssfLastEventAge.labels(s.transmitter).set(Math.max(0, (now - s.lastEventAtMs) / 1000));
      for (const status of SSF_STREAM_STATUSES)
        this.ssfStreamStatus.labels(s.transmitter, status).set(status === s.status ? 1 : 0);
    }
  }

  /** Where {@link dbPool} reads from (the pool exists only once the app is built). */
  trackPool(probe: () => PoolStats | undefined): void {
    this.poolProbe = probe;
  }

  /** Where {@link jwksKeysAge} reads from. */
  trackKeyAges(probe: () => readonly KeyAge[]): void {
    this.keyAgeProbe = probe;
  }

  /** The database pool now (undefined before the app is built or once it is closed). */
  poolStats(): PoolStats | undefined {
    return this.poolProbe?.();
  }

  private collectPool(): void {
    const stats = this.poolStats();
    if (!stats) return;
    this.dbPool.labels('in_use').set(stats.inUse);
    this.dbPool.labels('idle').set(stats.idle);
    this.dbPool.labels('waiting').set(stats.waiting);
  }

  private collectKeyAges(): void {
    this.jwksKeysAge.reset();
    for (const { issuer, ageSeconds } of this.keyAgeProbe?.() ?? [])
      this.jwksKeysAge.labels(issuer).set(Math.max(0, ageSeconds));
  }

  /** Counts one answered resolution. */
  record(
    transport: Transport,
    issuer: string,
    reason: ReasonCode | undefined,
    seconds: number,
  ): void {
    // Label children are looked up once per combination: prom-client hashes label values on
    // every labels() call, which is measurable on the warm path.
    const outer = reason === undefined ? transport : `${transport}\u0000${reason}`;
    let byIssuer = this.recordChildren.get(outer);
    if (!byIssuer) this.recordChildren.set(outer, (byIssuer = new Map<string, RecordChildren>()));
    let children = byIssuer.get(issuer);
    if (!children) {
      const outcome: Outcome = reason ? REASON_TABLE[reason].outcome : 'resolved';
      children = {
        count: this.pendingCount(
          this.resolutions.labels(outcome, reason ?? 'NONE', issuer, transport),
        ),
        latency: this.duration.labels(transport, outcome),
        slot: RecentOutcomes.slotOf(reason),
      };
      byIssuer.set(issuer, children);
    }
    children.count.count++;
    children.latency.observe(seconds);
    this.recent.add(children.slot);
  }
}

/** What {@link ResolverMetrics.record} updates for one label combination. */
interface RecordChildren {
  readonly count: { count: number };
  readonly latency: { observe(v: number): void };
  readonly slot: number;
}
