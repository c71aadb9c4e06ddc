import './v8-flags';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, type ResolverConfig } from '@resolver/config';
import { joinClusterMetrics, joinClusterOutcomes, ResolverMetrics } from '@resolver/observability';
import { runClusterPrimary } from './cluster-primary';
import { type RunningResolver, startResolver } from './resolver-app';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
const EXIT_CONFIG = 78;

function printEmbeddedHelp(resolver: RunningResolver): void {
  const { httpUrl, grpcAddress } = resolver;
  process.stdout.write(`
  Subject resolver is up — EMBEDDED DEVELOPMENT MODE (not for production)
    Postgres:    embedded, data under ${resolver.config.embedded.dataDir}
    Dev issuer:  ${resolver.devIssuer?.issuer}  (JWKS at ${httpUrl}/dev/jwks.json)
    HTTP:        ${httpUrl}        gRPC: ${grpcAddress}

  Try it (in another terminal):
    TOKEN=$(npm run -s token -- --sub alice --email alice@example.com)
    curl -s -X POST ${httpUrl}/v1/resolve -H "Authorization: Bearer $TOKEN"
    grpcurl -plaintext -d "{\\"token\\":\\"$TOKEN\\"}" ${grpcAddress} identity.v1.SubjectResolver/ResolveSubject
    curl -s ${httpUrl}/metrics | grep '^resolver_resolutions_total' | grep -v ' 0$'

`);
}

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
  if (config.mode === 'embedded') printEmbeddedHelp(resolver);

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
  process.stderr.write(
    `subject resolver failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
