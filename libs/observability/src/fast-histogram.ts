import type { Metric, Registry } from 'prom-client';

/** What a registry reads from a metric: prom-client's exposition shape. */
export interface HistogramExposition {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: {
    metricName: string;
    labels: Record<string, string | number>;
    value: number;
  }[];
}

/** One label combination's buckets: per-bucket (not cumulative) counts, the last is +Inf. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A Prometheus histogram for the hot path, registered in a prom-client registry like any other
 * metric (same exposition, same cluster aggregation by sum). prom-client's own label children
 * re-hash and re-validate their labels on every `observe`, which showed in the warm-path
 * profile; here a child is a plain object and `observe` is a bucket scan and three additions.
 */
export class FastHistogram<L extends string> {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values (in `labelNames` order); keep it, it is cheap to use. */
  labels(...values: string[]): { observe(value: number): void } {
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      if (values.length !== this.labelNames.length)
        throw new Error(`${this.name}: expected labels ${this.labelNames.join(', ')}`);
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] as string]));
      this.series.set(key, (series = new Series(labels, this.bounds)));
    }
    return series;
  }

  reset(): void {
    for (const s of this.series.values()) s.reset();
  }

  /** The exposition values, in the shape prom-client's registry and aggregator read. */
  get(): HistogramExposition {
    const values: HistogramExposition['values'] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += s.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound, ...s.labels },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', ...s.labels },
        value: s.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}
