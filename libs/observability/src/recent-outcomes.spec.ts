import { mergeOutcomeSnapshots } from './cluster-outcomes';
import { RecentOutcomes } from './recent-outcomes';
import { ResolverMetrics } from './resolver-metrics';

describe('RecentOutcomes: the console overview ring buffer', () => {
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  let now = T0;
  const ring = () => new RecentOutcomes(10, 6, () => now);
  beforeEach(() => (now = T0));

  it('counts answers by reason in the bucket of their time, empty buckets included', () => {
    const r = ring();
    r.add(RecentOutcomes.slotOf(undefined));
    r.add(RecentOutcomes.slotOf(undefined));
    r.add(RecentOutcomes.slotOf('TOKEN_EXPIRED'));
    now += 25_000;
    r.add(RecentOutcomes.slotOf('USER_DISABLED'));
    r.add(RecentOutcomes.slotOf('USER_STORE_UNAVAILABLE'));
    const s = r.snapshot();
    expect(s.windowSeconds).toBe(60);
    expect(s.buckets).toHaveLength(6);
    expect(s.buckets.at(-1)).toEqual({
      start: '2026-01-01T00:00:20.000Z',
      resolved: 0,
      byReason: { USER_DISABLED: 1, USER_STORE_UNAVAILABLE: 1 },
    });
    expect(s.buckets.at(-3)).toEqual({
      start: '2026-01-01T00:00:00.000Z',
      resolved: 2,
      byReason: { TOKEN_EXPIRED: 1 },
    });
    expect(s.buckets.at(-2)).toMatchObject({ resolved: 0, byReason: {} });
    expect(s.reasons).toEqual([
      { reason: 'TOKEN_EXPIRED', outcome: 'refused' },
      { reason: 'USER_DISABLED', outcome: 'refused' },
      { reason: 'USER_STORE_UNAVAILABLE', outcome: 'unavailable' },
    ]);
  });

  it('forgets what fell out of the window, however long nothing happened', () => {
    const r = ring();
    r.add(RecentOutcomes.slotOf('TOKEN_EXPIRED'));
    now += 50_000;
    r.add(RecentOutcomes.slotOf(undefined));
    expect(r.snapshot().reasons).toEqual([{ reason: 'TOKEN_EXPIRED', outcome: 'refused' }]);
    now += 10_000; // the first bucket leaves the 60 s window
    expect(r.snapshot().reasons).toEqual([]);
    expect(r.snapshot().buckets.reduce((n, b) => n + b.resolved, 0)).toBe(1);
    now += 3_600_000;
    r.add(RecentOutcomes.slotOf('USER_LOCKED'));
    const s = r.snapshot();
    expect(s.buckets.reduce((n, b) => n + b.resolved, 0)).toBe(0);
    expect(s.reasons.map((x) => x.reason)).toEqual(['USER_LOCKED']);
  });

  it('a clock stepping back counts into the newest bucket, not a past one', () => {
    const r = ring();
    now += 30_000;
    r.add(RecentOutcomes.slotOf(undefined));
    now -= 20_000;
    r.add(RecentOutcomes.slotOf(undefined));
    expect(r.snapshot().buckets.at(-1)?.resolved).toBe(2);
  });

  it('is fed by ResolverMetrics.record, where outcomes are already counted', () => {
    const metrics = new ResolverMetrics(['https://idp.test']);
    metrics.record('http', 'https://idp.test', undefined, 0.001);
    metrics.record('grpc', 'https://idp.test', 'USER_DISABLED', 0.001);
    metrics.record('grpc', 'https://idp.test', 'USER_DISABLED', 0.001);
    const s = metrics.recent.snapshot();
    expect(s.buckets.reduce((n, b) => n + b.resolved, 0)).toBe(1);
    expect(s.buckets.reduce((n, b) => n + (b.byReason.USER_DISABLED ?? 0), 0)).toBe(2);
  });
});

describe('mergeOutcomeSnapshots: one WORKERS cluster overview', () => {
  it('sums the workers bucket by bucket and keeps the newest window', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const a = new RecentOutcomes(10, 3, () => now);
    const b = new RecentOutcomes(10, 3, () => now);
    a.add(RecentOutcomes.slotOf(undefined));
    b.add(RecentOutcomes.slotOf('USER_LOCKED'));
    now += 10_000;
    b.add(RecentOutcomes.slotOf(undefined));
    const early = a.snapshot();
    now += 10_000; // b has moved one bucket further than a's snapshot
    b.add(RecentOutcomes.slotOf('TOKEN_EXPIRED'));
    const merged = mergeOutcomeSnapshots([early, b.snapshot()]);
    expect(merged?.buckets).toEqual([
      { start: '2026-01-01T00:00:00.000Z', resolved: 1, byReason: { USER_LOCKED: 1 } },
      { start: '2026-01-01T00:00:10.000Z', resolved: 1, byReason: {} },
      { start: '2026-01-01T00:00:20.000Z', resolved: 0, byReason: { TOKEN_EXPIRED: 1 } },
    ]);
    expect(merged?.reasons.map((r) => r.reason).sort()).toEqual(['TOKEN_EXPIRED', 'USER_LOCKED']);
    expect(mergeOutcomeSnapshots([])).toBeUndefined();
  });
});
