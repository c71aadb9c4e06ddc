import './process-hardening';
import './v8-flags';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { adminOffReason, ConfigError, loadConfig, type ResolverConfig } from '@resolver/config';
import { EmbeddedDatabaseInUseError } from '@resolver/identity';
import { joinClusterMetrics, joinClusterOutcomes, ResolverMetrics } from '@resolver/observability';
import { runClusterPrimary } from './cluster-primary';
import { type RunningResolver, startResolver } from './resolver-app';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
const EXIT_CONFIG = 78;

function printEmbeddedHelp(resolver: RunningResolver): void {
  const { httpUrl, grpcAddress, config } = resolver;
  const admin = config.admin?.file
    ? `    Admin:       credential in ${config.admin.file} (mode 0600; the CLI reads it by itself)`
    : config.admin
      ? '    Admin:       on, with the configured ADMIN_TOKEN / ADMIN_TOKEN_FILE'
      : `    Admin:       off (${adminOffReason(config) ?? ''})`;
  const adminTry = config.admin?.file
    ? `
    npm run -s cli -- users list
    npm run -s cli -- diagnose "$TOKEN"
    curl -s ${httpUrl}/admin/v1/users -H "Authorization: Bearer $(cat ${config.admin.file})"`
    : '';
  process.stdout.write(`
  Subject resolver is up — EMBEDDED DEVELOPMENT MODE (not for production)
    Postgres:    embedded, data under ${config.embedded.dataDir}
    Dev issuer:  ${resolver.devIssuer?.issuer}  (JWKS at ${httpUrl}/dev/jwks.json)
    HTTP:        ${httpUrl}        gRPC: ${grpcAddress}
${admin}

  Try it (in another terminal):
    TOKEN=$(npm run -s token -- --sub alice --email alice@example.com)
    curl -s -X POST ${httpUrl}/v1/resolve -H "Authorization: Bearer $TOKEN"
    npm run -s cli -- resolve "$TOKEN" --grpc
    curl -s ${httpUrl}/metrics | grep '^resolver_resolutions_total' | grep -v ' 0$'${adminTry}
  With grpcurl installed (reflection is on):
    grpcurl -plaintext -d "{\\"token\\":\\"$TOKEN\\"}" ${grpcAddress} identity.v1.SubjectResolver/ResolveSubject

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
  const hint =
    error instanceof EmbeddedDatabaseInUseError
      ? '; stop that resolver, or start this one with another DATA_DIR (and EMBEDDED_PG_PORT, HTTP_PORT, GRPC_PORT)'
      : '';
  process.stderr.write(
    `subject resolver failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`,
  );
  process.exit(1);
});
