import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The same observations into prom-client's Histogram and ours: the same exposition text. */
function both(observations: [string, string, number][]) {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'help',
    labelNames: ['transport', 'outcome'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const fast = new FastHistogram('h_seconds', 'help', ['transport', 'outcome'], BUCKETS, ours);
  for (const [t, o, v] of observations) {
    reference.labels(t, o).observe(v);
    fast.labels(t, o).observe(v);
  }
  return { theirs, ours, fast };
}

describe('FastHistogram', () => {
  it('exposes exactly what prom-client exposes for the same observations', async () => {
    const values = [0, 0.0004, 0.0005, 0.0006, 0.003, 0.01, 0.7, 2.5, 3, 100];
    const { theirs, ours } = both([
      ...values.map((v): [string, string, number] => ['http', 'resolved', v]),
      ['grpc', 'refused', 0.002],
      ['grpc', 'refused', 0.02],
    ]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('sums across cluster workers like prom-client histograms', async () => {
    const a = both([['http', 'resolved', 0.001]]);
    const b = both([
      ['http', 'resolved', 0.3],
      ['grpc', 'resolved', 0.001],
    ]);
    const aggregate = async (r: [Registry, Registry]) =>
      AggregatorRegistry.aggregate(await Promise.all(r.map((x) => x.getMetricsAsJSON()))).metrics();
    expect(await aggregate([a.ours, b.ours])).toBe(await aggregate([a.theirs, b.theirs]));
  });

  it('resets to zero and refuses a wrong number of labels', async () => {
    const { ours, fast } = both([['http', 'resolved', 0.1]]);
    fast.reset();
    expect(await ours.metrics()).toContain(
      'h_seconds_count{transport="http",outcome="resolved"} 0',
    );
    expect(() => fast.labels('http')).toThrow(/transport, outcome/);
  });
});
