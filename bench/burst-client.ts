import { percentile } from './stats';

/** One answered (or unanswered) request of a burst. */
export interface BurstSample {
  /** HTTP status; 0 when no answer came (connection refused or reset). */
  readonly status: number;
  readonly reason?: string;
  readonly retryAfter?: string;
  readonly ms: number;
}

/** What a burst came to: every answer by `status reason`, and its latency. */
export interface BurstSummary {
  readonly requests: number;
  /** `200`, `503 USER_STORE_OVERLOADED`, `no answer (ECONNRESET)`, … */
  readonly answers: Readonly<Record<string, number>>;
  readonly answered200Pct: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** From the first request sent to the last answer. */
  readonly wallMs: number;
}

/**
 * A burst of first logins: every token sent `perSubject` times, all requests at once
 * (`POST /v1/resolve`, `Authorization: Bearer`), each subject's requests split evenly over the
 * replicas `urls` (10 over 2: 5 each, so the replicas race each other for every subject).
 */
export async function fireBurst(
  urls: readonly string[],
  tokens: readonly string[],
  perSubject: number,
): Promise<BurstSummary> {
  const started = performance.now();
  const shots: Promise<BurstSample>[] = [];
  for (let r = 0; r < perSubject; r++)
    for (const [i, token] of tokens.entries())
      shots.push(shoot(urls[(i + r) % urls.length] as string, token));
  const samples = await Promise.all(shots);
  return summarizeBurst(samples, performance.now() - started);
}

async function shoot(url: string, token: string): Promise<BurstSample> {
  const sent = performance.now();
  try {
    const res = await fetch(`${url}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json().catch(() => ({}))) as { reason?: string };
    return {
      status: res.status,
      reason: res.status === 200 ? undefined : body.reason,
      retryAfter: res.headers.get('retry-after') ?? undefined,
      ms: performance.now() - sent,
    };
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    return { status: 0, reason: `no answer (${code})`, ms: performance.now() - sent };
  }
}

/** Counts a burst's answers and its latency percentiles. */
export function summarizeBurst(samples: readonly BurstSample[], wallMs: number): BurstSummary {
  const answers: Record<string, number> = {};
  for (const s of samples) {
    const key = s.status === 0 ? (s.reason as string) : `${s.status} ${s.reason ?? ''}`.trim();
    answers[key] = (answers[key] ?? 0) + 1;
  }
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    requests: samples.length,
    answers,
    answered200Pct: samples.length ? (100 * (answers['200'] ?? 0)) / samples.length : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    maxMs: latencies[latencies.length - 1] ?? 0,
    wallMs,
  };
}

/**
 * The burst's users and identity links in the store: `$1` the issuer, `$2` the subjects' prefix,
 * `$3` when the burst began (the store's clock). Users are counted by issuer namespace and time,
 * not through their links, so a user written without its link would be counted (and `unlinked`).
 */
export const BURST_ROWS_SQL = `SELECT
    (SELECT count(*)::int FROM users WHERE namespace = $1 AND provenance = 'jit'
       AND created_at >= $3) AS users,
    (SELECT count(*)::int FROM external_identities WHERE issuer = $1 AND subject LIKE $2 || '%')
       AS links,
    (SELECT count(*)::int FROM users u WHERE u.namespace = $1 AND u.created_at >= $3
       AND NOT EXISTS (SELECT 1 FROM external_identities e WHERE e.user_id = u.id)) AS unlinked`;

/**
 * Server-side latency of the answers, from the replicas' own histograms
 * (`resolver_resolution_duration_seconds`, HTTP, summed over replicas): the bucket bound (ms)
 * under which 50% and 99% of them were answered, as text (`≤ 250 ms`, or `> 2500 ms` past the
 * largest bucket). The client's numbers include waiting for a
 * connection and for the replica to read the request; these start when the replica did.
 */
export function serverLatencyMs(metricsTexts: readonly string[]): { p50: string; p99: string } {
  const buckets = new Map<number, number>();
  for (const text of metricsTexts)
    for (const [, labels = '', count] of text.matchAll(
      /^resolver_resolution_duration_seconds_bucket\{([^}]*)\} (\d+)$/gm,
    )) {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (!labels.includes('transport="http"') || le === undefined) continue;
      const ms = le === '+Inf' ? Infinity : Number(le) * 1000;
      buckets.set(ms, (buckets.get(ms) ?? 0) + Number(count));
    }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  const finite = bounds.filter(Number.isFinite);
  const at = (q: number) => {
    const bound = bounds.find((b) => (buckets.get(b) ?? 0) >= q * total);
    if (bound === undefined) return 'n/a';
    // Past the largest bucket the histogram only says "more than".
    return Number.isFinite(bound) ? `≤ ${bound} ms` : `> ${finite[finite.length - 1] ?? 0} ms`;
  };
  return { p50: at(0.5), p99: at(0.99) };
}
