import type { IncomingHttpHeaders } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import {
  ensureEmbeddedAdminToken,
  needsEmbeddedAdminToken,
  readTlsMaterial,
  recordEmbeddedServer,
  type ResolverConfig,
} from '@resolver/config';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '@resolver/identity';
import { IMPORT_MAX_BODY_BYTES } from '@resolver/provisioning';
import {
  type Clock,
  createLogger,
  NestPinoLogger,
  REQUEST_ID_HEADER,
  requestIdFrom,
  ResolverLogger,
  SystemClock,
  Tracing,
} from '@resolver/observability';
import { cacheBudgetWarning } from '@resolver/resolution';
import { type DevIssuer, devIssuerConfig, ensureDevIssuer } from '@resolver/tokens';
import { AppModule } from './app.module';
import { ForwardAuthLane } from './authz/forward-auth-lane';
import { ResolverGrpcServer } from './transport/resolver-grpc-server';
import { traceHttp } from './transport/request-tracing';
import { Readiness } from './health/readiness';
import { hostPort } from './transport/host-port';
import { httpsServerOptions } from './transport/tls/http-tls';
import { TransportSecurity } from './transport/tls/transport-security';

/** The admin import route, which alone has a body limit above `server.bodyLimitBytes`. */
const IMPORT_ROUTE = '/admin/v1/users/import';

/** A started resolver: HTTP and gRPC listening, migrations applied. */
export interface RunningResolver {
  readonly app: NestFastifyApplication;
  readonly config: ResolverConfig;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly devIssuer?: DevIssuer;
  readonly logger: ResolverLogger;
  /** Stops listening, closes the pool and (embedded mode) stops Postgres. */
  close(): Promise<void>;
  /**
   * Graceful shutdown (SIGTERM): readiness and gRPC health turn false at once while requests
   * are still served for `lifecycle.shutdownDrainMs` (load balancers stop sending), then HTTP
   * and gRPC stop accepting and finish in-flight requests, then the pool closes.
   */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  /** Nest's own logs; default: through the structured logger. */
  readonly logger?: LoggerService | LogLevel[] | false;
  /** Where structured log lines go (tests capture them); default stdout. */
  readonly logDestination?: DestinationStream;
}

/**
 * A listen failure because the port is taken, as a message that names the setting to change;
 * any other error unchanged.
 */
function portInUse(
  error: unknown,
  transport: string,
  address: string,
  env: string,
  field: string,
): unknown {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  if (!/EADDRINUSE|address already in use/i.test(text)) return error;
  return new Error(
    `the ${transport} port is in use: ${address} already has a listener (another resolver?); stop it, or choose another port with ${env} (or ${field} in the config file)`,
  );
}

/**
 * Boots the hybrid app (Fastify HTTP + gRPC in one process): a thin bootstrap around the one
 * composition root (`AppModule`), which builds every part. Only what decides the module itself
 * happens first: the logger Nest logs through, and in embedded mode the embedded Postgres (its
 * URL defines the database module), the development issuer and the embedded admin credential
 * (both change the validated config the modules are chosen from).
 */
export async function startResolver(
  config: ResolverConfig,
  options: StartOptions = {},
): Promise<RunningResolver> {
  const clock = options.clock ?? new SystemClock();
  const pinoLogger = createLogger(config.logging, options.logDestination);
  const logger = new ResolverLogger(pinoLogger, config.logging);
  const nestLogger = options.logger ?? new NestPinoLogger(pinoLogger);
  // Nest's static Logger (used before and outside the app, e.g. main.ts) goes the same way.
  if (nestLogger instanceof NestPinoLogger) Logger.overrideLogger(nestLogger);
  const log = new Logger('Bootstrap');
  let embedded: EmbeddedDatabase | undefined;
  let devIssuer: DevIssuer | undefined;
  let tracing = Tracing.OFF;
  let issuers = config.issuers;
  let url = config.database.url;
  let admin = config.admin;
  const publicHost =
    config.http.bindAddress === '0.0.0.0' || config.http.bindAddress === '::'
      ? '127.0.0.1'
      : config.http.bindAddress;

  const budget = cacheBudgetWarning(config.cache, getHeapStatistics().heap_size_limit);
  if (budget) log.warn(budget);

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
    // Admin and diagnose work out of the box: a generated credential the CLI finds by itself.
    if (needsEmbeddedAdminToken(config))
      admin = await ensureEmbeddedAdminToken(config.embedded.dataDir);
  }
  try {
    if (config.tracing.enabled) tracing = await startTracing(config, logger);
    const fullConfig = {
      ...config,
      issuers,
      admin,
      database: { ...config.database, url: url as string },
    };
    // The HTTPS server is created with the adapter: its first certificate is read here (checked
    // already by the config), the reloader keeps it current from then on.
    const httpTls = config.tls.http;
    const httpMaterial = httpTls ? readTlsMaterial(httpTls) : undefined;
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ config: fullConfig, clock, logger, tracing, devIssuer }),
      new FastifyAdapter({
        bodyLimit: config.http.bodyLimitBytes,
        // No Nest middleware is used (cross-cutting work is Fastify hooks and routes): without
        // middie, every request skips its onRequest hook and the middleware walk it runs.
        skipMiddie: true,
        // The caller's x-request-id when sane, else a fresh UUID; echoed on every response.
        genReqId: (req: { headers: IncomingHttpHeaders }) =>
          requestIdFrom(req.headers[REQUEST_ID_HEADER]),
        ...(httpTls && httpMaterial ? httpsServerOptions(httpTls, httpMaterial) : {}),
      } as ConstructorParameters<typeof FastifyAdapter>[0]),
      { logger: nestLogger, abortOnError: false },
    );
    const fastify = app.getHttpAdapter().getInstance();
    app.get(TransportSecurity).secureHttp(app.getHttpServer(), fastify, httpMaterial);
    // A server span per request on every route, before the routes are registered (app.init).
    if (tracing.on) traceHttp(fastify, tracing);
    // One hook for every response (a hook per concern costs on every request): the request id
    // is echoed, and once shutdown begins every response closes its connection — a keep-alive
    // connection that was busy when the listener closed would otherwise hold the close open
    // until it times out.
    let closing = false;
    fastify.addHook('onSend', (request, reply, payload, done) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      // HTTP/2 has no Connection header (its sessions are closed with GOAWAY by Fastify).
      if (closing && request.raw.httpVersionMajor === 1) void reply.header('connection', 'close');
      done(null, payload);
    });
    // The import route takes up to IMPORT_MAX_ROWS rows: its own body limit, set before Nest
    // registers the route (Fastify fixes a route's limit when the route is added).
    fastify.addHook('onRoute', (route) => {
      if (route.url === IMPORT_ROUTE) route.bodyLimit = IMPORT_MAX_BODY_BYTES;
    });
    // The forward-auth lane (authz/forward-auth-lane.ts): a repeated token of a cached user is
    // answered on Node's HTTP server, below the framework's hooks. Not with tracing (every request
    // is a span), nor on a TLS listener (its caller checks and HTTP/2 stay in Fastify's hands).
    if (!tracing.on && !httpTls && !app.get(TransportSecurity).policy.enforced)
      app.get(ForwardAuthLane).install(app.getHttpServer(), () => closing);
    const grpcAddress = hostPort(config.grpc.bindAddress, config.grpc.port);
    // The app's global filter (ErrorPathModule's APP_FILTER) translates gRPC failures too.
    app.connectMicroservice({ strategy: app.get(ResolverGrpcServer) }, { inheritAppConfig: true });
    await app.init();
    await app.get(Readiness).refreshGrpcHealth();
    try {
      await app.startAllMicroservices();
    } catch (error) {
      await app.close().catch(() => undefined);
      throw portInUse(error, 'gRPC', grpcAddress, 'GRPC_PORT', 'server.grpcPort');
    }
    try {
      await app.listen(config.http.port, config.http.bindAddress);
    } catch (error) {
      await app.close().catch(() => undefined);
      throw portInUse(
        error,
        'HTTP',
        hostPort(config.http.bindAddress, config.http.port),
        'HTTP_PORT',
        'server.httpPort',
      );
    }
    const address = app.getHttpServer().address();
    const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    // The CLI in another terminal finds this server (its ports) from the data dir, as it finds
    // the dev issuer and the admin credential there. Best effort: without the record the CLI
    // falls back to the configured ports.
    const unrecord =
      config.mode === 'embedded'
        ? await recordEmbeddedServer(config.embedded.dataDir, {
            pid: process.pid,
            host: publicHost,
            httpPort,
            grpcPort: config.grpc.port,
            admin: !admin
              ? 'off'
              : 'file' in admin.from && admin.from.named === 'generated'
                ? 'generated'
                : 'configured',
          }).catch((error: unknown) => {
            log.warn(`cannot record where this server listens for the CLI: ${String(error)}`);
            return () => Promise.resolve();
          })
        : () => Promise.resolve();
    return {
      app,
      config: fullConfig,
      httpUrl: `${httpTls ? 'https' : 'http'}://${hostPort(publicHost, httpPort)}`,
      grpcAddress,
      devIssuer,
      logger,
      close: async () => {
        await unrecord();
        await app.close();
        await flushTraces(tracing, log);
        await embedded?.stop();
      },
      shutdown: async () => {
        const drainMs = config.lifecycle.shutdownDrainMs;
        app.get(Readiness).beginShutdown();
        closing = true;
        log.log(`shutting down: not ready; draining for ${drainMs} ms before closing listeners`);
        await new Promise((r) => setTimeout(r, drainMs));
        // HTTP finishes in-flight requests, gRPC shuts down gracefully, then the pool closes.
        await unrecord();
        await app.close();
        // The spans of the last requests are exported before the process exits.
        await flushTraces(tracing, log);
        await embedded?.stop();
        log.log('shutdown complete');
      },
    };
  } catch (error) {
    await flushTraces(tracing, log);
    await embedded?.stop();
    throw error;
  }
}

/**
 * Tracing on: the OpenTelemetry SDK, loaded now and only now (`Tracing.OFF` otherwise loads
 * nothing), exporting over OTLP/HTTP where the config and the OTEL_* variables say.
 */
async function startTracing(config: ResolverConfig, logger: ResolverLogger): Promise<Tracing> {
  const sdk = await import('@resolver/observability/tracing-sdk');
  const settings = config.tracing;
  const tracing = sdk.startTracing(settings, {
    warn: (line) => logger.pino.warn({ event: 'trace_export_failed' }, line),
  });
  // The URL and the sampler, never the export headers (they may hold a collector's API key).
  new Logger('Tracing').log(
    `tracing on: ${settings.protocol} to ${settings.url}, service ${settings.serviceName}, sampler ${settings.sampler}${settings.sampler.endsWith('ratio') ? ` ${settings.ratio}` : ''}`,
  );
  return tracing;
}

async function flushTraces(tracing: Tracing, log: Logger): Promise<void> {
  try {
    await tracing.shutdown();
  } catch (error) {
    log.warn(`could not flush the last traces: ${String(error)}`);
  }
}
