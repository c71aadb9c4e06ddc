import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { type Clock, type ResolverConfig, SystemClock } from '@resolver/config';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '@resolver/identity';
import { ResolverMetrics } from '@resolver/observability';
import { type DevIssuer, devIssuerConfig, ensureDevIssuer, TokenVerifier } from '@resolver/tokens';
import { AppModule } from './app.module';
import { IdentityAssertionSigner } from './authz/identity-assertion';
import { grpcServerOptions } from './grpc/grpc-options';
import { GRPC_HEALTH_SERVICES, Readiness } from './health/readiness';

/** A started resolver: HTTP and gRPC listening, migrations applied. */
export interface RunningResolver {
  readonly app: NestFastifyApplication;
  readonly config: ResolverConfig;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly devIssuer?: DevIssuer;
  /** Stops listening, closes the pool and (embedded mode) stops Postgres. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly logger?: LoggerService | LogLevel[] | false;
}

/** `host:port` with IPv6 literals bracketed. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Boots the hybrid app (Fastify HTTP + gRPC in one process). In embedded mode it first starts
 * the embedded Postgres and the development issuer; everything async that Nest's DI cannot wait
 * for (key files, embedded server) happens here, before the module is built.
 */
export async function startResolver(
  config: ResolverConfig,
  options: StartOptions = {},
): Promise<RunningResolver> {
  const clock = options.clock ?? new SystemClock();
  const log = new Logger('Bootstrap');
  let embedded: EmbeddedDatabase | undefined;
  let devIssuer: DevIssuer | undefined;
  let issuers = config.issuers;
  let url = config.database.url;
  const publicHost =
    config.http.bindAddress === '0.0.0.0' || config.http.bindAddress === '::'
      ? '127.0.0.1'
      : config.http.bindAddress;

  if (config.mode === 'embedded') {
    log.warn(
      'EMBEDDED DEVELOPMENT MODE: embedded Postgres and a local dev issuer. Not for production.',
    );
    embedded = await startEmbeddedDatabase(config.embedded);
    url = embedded.url;
    devIssuer = await ensureDevIssuer(
      config.embedded.dataDir,
      `http://${hostPort(publicHost, config.http.port)}/dev`,
    );
    issuers = [...issuers, devIssuerConfig(devIssuer)];
  }
  try {
    const fullConfig = { ...config, issuers, database: { ...config.database, url: url as string } };
    const metrics = new ResolverMetrics(issuers.map((i) => i.issuer));
    const verifier = await TokenVerifier.create(fullConfig, clock, (issuer, result) =>
      metrics.jwksFetches.labels(issuer, result).inc(),
    );
    const grpcHealth = new HealthImplementation(
      Object.fromEntries(GRPC_HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING'])),
    );

    const assertionSigner = config.authz.assertion.enabled
      ? await IdentityAssertionSigner.create(config.authz.assertion, clock)
      : undefined;

    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({
        config: fullConfig,
        verifier,
        metrics,
        clock,
        grpcHealth,
        devIssuer,
        assertionSigner,
      }),
      new FastifyAdapter({ bodyLimit: config.http.bodyLimitBytes }),
      { logger: options.logger ?? ['log', 'warn', 'error'], abortOnError: false },
    );
    const grpcAddress = hostPort(config.grpc.bindAddress, config.grpc.port);
    app.connectMicroservice(
      grpcServerOptions(grpcAddress, (pkg, server) => {
        new ReflectionService(pkg).addToServer(server);
        grpcHealth.addToServer(server);
      }),
    );
    await app.init();
    await app.get(Readiness).refreshGrpcHealth();
    await app.startAllMicroservices();
    await app.listen(config.http.port, config.http.bindAddress);
    const address = app.getHttpServer().address();
    const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    return {
      app,
      config: fullConfig,
      httpUrl: `http://${hostPort(publicHost, httpPort)}`,
      grpcAddress,
      devIssuer,
      close: async () => {
        await app.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
