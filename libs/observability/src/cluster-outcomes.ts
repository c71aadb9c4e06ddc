import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { ReasonCode } from '@resolver/reasons';
import type { OutcomeBucket, RecentOutcomes, RecentOutcomesSnapshot } from './recent-outcomes';

const REQUEST = 'resolver:outcomes-request';
const COLLECT = 'resolver:outcomes-collect';
const PART = 'resolver:outcomes-part';
const RESPONSE = 'resolver:outcomes-response';
/** Shorter than a page refresh: a stuck worker costs one refresh its share, not the page. */
const TIMEOUT_MS = 1_500;

interface OutcomesMessage {
  type: string;
  id: string;
  snapshot?: RecentOutcomesSnapshot;
}

/**
 * Sums snapshots bucket by bucket (buckets start on the same epoch boundaries in every process,
 * so equal starts are the same interval); the window is the newest `bucketCount` starts.
 */
export function mergeOutcomeSnapshots(
  snapshots: readonly RecentOutcomesSnapshot[],
): RecentOutcomesSnapshot | undefined {
  const first = snapshots[0];
  if (!first) return undefined;
  const byStart = new Map<
    string,
    { resolved: number; byReason: Partial<Record<ReasonCode, number>> }
  >();
  const outcomes = new Map<ReasonCode, RecentOutcomesSnapshot['reasons'][number]>();
  for (const s of snapshots) {
    for (const r of s.reasons) outcomes.set(r.reason, r);
    for (const b of s.buckets) {
      const into = byStart.get(b.start) ?? { resolved: 0, byReason: {} };
      into.resolved += b.resolved;
      for (const [reason, n] of Object.entries(b.byReason) as [ReasonCode, number][]) {
        into.byReason[reason] = (into.byReason[reason] ?? 0) + n;
      }
      byStart.set(b.start, into);
    }
  }
  const buckets: OutcomeBucket[] = [...byStart.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(-first.buckets.length)
    .map(([start, b]) => ({ start, ...b }));
  const seen = new Set(buckets.flatMap((b) => Object.keys(b.byReason)));
  return {
    bucketSeconds: first.bucketSeconds,
    windowSeconds: first.windowSeconds,
    // In the first snapshot's order (the reason codes' order), then any only others saw.
    reasons: [...outcomes.values()].filter((r) => seen.has(r.reason)),
    buckets,
  };
}

/**
 * The recent answers of the whole `WORKERS` cluster: a worker asks the primary, which collects
 * every worker's ring buffer and sums them (like the metrics scrape). Outside a cluster, or if
 * the primary does not answer, this process's own.
 */
export async function recentOutcomes(ring: RecentOutcomes): Promise<RecentOutcomesSnapshot> {
  if (!cluster.isWorker || !process.send) return ring.snapshot();
  const id = randomUUID();
  return new Promise((resolve) => {
    const done = (snapshot?: RecentOutcomesSnapshot) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(snapshot ?? ring.snapshot());
    };
    const onMessage = (message: OutcomesMessage) => {
      if (message?.type === RESPONSE && message.id === id) done(message.snapshot);
    };
    const timer = setTimeout(() => done(), TIMEOUT_MS * 2);
    process.on('message', onMessage);
    process.send?.({ type: REQUEST, id } satisfies OutcomesMessage);
  });
}

/** In a worker: answers the primary's collection requests with this worker's ring buffer. */
export function joinClusterOutcomes(ring: RecentOutcomes): void {
  if (!cluster.isWorker) return;
  process.on('message', (message: OutcomesMessage) => {
    if (message?.type !== COLLECT) return;
    process.send?.({
      type: PART,
      id: message.id,
      snapshot: ring.snapshot(),
    } satisfies OutcomesMessage);
  });
}

/** In the primary: answers a worker's request with the sum of every worker's ring buffer. */
export function serveClusterOutcomes(): void {
  const pending = new Map<
    string,
    { parts: RecentOutcomesSnapshot[]; expected: number; finish: () => void }
  >();
  cluster.on('message', (worker, message: OutcomesMessage) => {
    if (message?.type === PART) {
      const p = pending.get(message.id);
      if (p && message.snapshot) p.parts.push(message.snapshot);
      if (p && p.parts.length >= p.expected) p.finish();
      return;
    }
    if (message?.type !== REQUEST) return;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    const collectId = randomUUID();
    const timer = setTimeout(() => finish(), TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      const p = pending.get(collectId);
      pending.delete(collectId);
      const snapshot = mergeOutcomeSnapshots(p?.parts ?? []);
      if (worker.isConnected())
        worker.send({ type: RESPONSE, id: message.id, snapshot } satisfies OutcomesMessage);
    };
    pending.set(collectId, { parts: [], expected: workers.length, finish });
    for (const w of workers) w?.send({ type: COLLECT, id: collectId } satisfies OutcomesMessage);
    if (workers.length === 0) finish();
  });
}
