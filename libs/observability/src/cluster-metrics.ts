import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'resolver:metrics-request';
const RESPONSE = 'resolver:metrics-response';
const TIMEOUT_MS = 3_000;

interface MetricsMessage {
  type: string;
  id: string;
  text?: string;
}

/**
 * In a `WORKERS` cluster any worker may receive the scrape, so the answer must cover every
 * worker: the worker asks the primary, which gathers all workers' registries with prom-client's
 * aggregator. Outside a cluster (or if the primary does not answer) this is the local registry.
 */
export async function scrapeMetrics(registry: Registry): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = randomUUID();
  return new Promise<string>((resolve) => {
    const done = (text?: string) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      if (text !== undefined) resolve(text);
      else void registry.metrics().then(resolve);
    };
    const onMessage = (message: MetricsMessage) => {
      if (message?.type === RESPONSE && message.id === id) done(message.text);
    };
    const timer = setTimeout(() => done(), TIMEOUT_MS);
    process.on('message', onMessage);
    process.send?.({ type: REQUEST, id } satisfies MetricsMessage);
  });
}

/** Makes this worker's registry part of the cluster aggregate. */
export function joinClusterMetrics(registry: Registry): void {
  if (!cluster.isWorker) return;
  // Constructing an aggregator is what installs prom-client's worker-side answerer.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** In the primary: answers workers' scrape requests with the aggregate of all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text } satisfies MetricsMessage),
      () => worker.send({ type: RESPONSE, id: message.id } satisfies MetricsMessage),
    );
  });
}
