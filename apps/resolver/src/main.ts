import './process-hardening';
import './v8-flags';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, type ResolverConfig } from '@resolver/config';
import { EmbeddedDatabaseInUseError } from '@resolver/identity';
import { joinClusterMetrics, joinClusterOutcomes, ResolverMetrics } from '@resolver/observability';
import { runClusterPrimary } from './cluster-primary';
import { embeddedBanner } from './embedded-banner';
import { startResolver } from './resolver-app';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
const EXIT_CONFIG = 78;

async function main(): Promise<void> {
  let config: ResolverConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  if (config.workers > 1 && cluster.isPrimary) return runClusterPrimary(config);
  const resolver = await startResolver(config);
  joinClusterMetrics(resolver.app.get(ResolverMetrics).registry);
  joinClusterOutcomes(resolver.app.get(ResolverMetrics).recent);
  const log = new Logger('Main');
  log.log(`listening: HTTP ${resolver.httpUrl}, gRPC ${resolver.grpcAddress}`);
  if (config.mode === 'embedded')
    process.stdout.write(embeddedBanner({ ...resolver, devIssuer: resolver.devIssuer?.issuer }));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: graceful shutdown (grace ${config.lifecycle.shutdownGraceMs} ms)`);
    // Past the grace period something is stuck: exit non-zero rather than hang until SIGKILL.
    const hard = setTimeout(() => {
      log.error(`shutdown did not finish within ${config.lifecycle.shutdownGraceMs} ms`);
      process.exit(1);
    }, config.lifecycle.shutdownGraceMs);
    hard.unref();
    resolver.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const hint =
    error instanceof EmbeddedDatabaseInUseError
      ? '; stop that resolver, or start this one with another DATA_DIR (and EMBEDDED_PG_PORT, HTTP_PORT, GRPC_PORT)'
      : '';
  process.stderr.write(
    `subject resolver failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`,
  );
  process.exit(1);
});
