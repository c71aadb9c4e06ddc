import cluster, { type Worker } from 'node:cluster';
import { Logger } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { serveClusterMetrics, serveClusterOutcomes } from '@resolver/observability';

const GRACE_MS = 30_000;
const MAX_RESTARTS_PER_MINUTE = 10;

/**
 * The `WORKERS` primary: forks one resolver per worker (each serves both HTTP and gRPC on the
 * shared ports), answers aggregated metrics scrapes and the console's recent answers, replaces
 * crashed workers (bounded), and on SIGTERM/SIGINT asks every worker to drain and exits when
 * they all have.
 */
export function runClusterPrimary(config: ResolverConfig): void {
  const log = new Logger('Cluster');
  serveClusterMetrics();
  serveClusterOutcomes();
  let stopping = false;
  const restarts: number[] = [];
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
  log.log(
    `primary ${process.pid}: ${config.workers} workers on HTTP ${config.http.port} and gRPC ${config.grpc.port}`,
  );

  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    while (restarts.length && now - (restarts[0] as number) > 60_000) restarts.shift();
    if (code === 78) {
      log.error('a worker refused the configuration; stopping');
      return stop('configuration error', 78);
    }
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      log.error(
        `worker ${worker.process.pid} exited (${signal ?? code}); too many restarts, stopping`,
      );
      return stop('crash loop', 1);
    }
    restarts.push(now);
    log.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting a replacement`);
    fork();
  });

  const stop = (why: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.log(`${why}: stopping ${Object.keys(cluster.workers ?? {}).length} workers`);
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    let failed = exitCode !== 0;
    const exits = workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once('exit', (code) => {
            if (code !== 0) failed = true;
            resolve();
          });
          w.process.kill('SIGTERM');
        }),
    );
    const force = setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, GRACE_MS);
    force.unref();
    void Promise.all(exits).then(() => process.exit(failed ? exitCode || 1 : 0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
