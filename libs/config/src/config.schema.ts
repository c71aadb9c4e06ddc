import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LOG_LEVELS } from './algorithms';
import type { Immutable } from './immutable';
import { authzSchema } from './authz.schema';
import { envOverlaySchema, postgresUrl } from './env.schema';
import { bindingSchema } from './forwarded-certificate.schema';
import { issuerSchema } from './issuer.schema';
import { scimSchema } from './scim.schema';
import { ssfSchema } from './ssf.schema';
import { tlsSchema } from './tls.schema';
import { tracingFileSchema, tracingSettings } from './tracing.schema';

const port = z.number().int().min(0).max(65535);
const positiveMs = (max: number) => z.number().int().min(1).max(max);

/** The YAML file's schema. Unknown fields are errors: a typo must not silently disable a check. */
export const configFileSchema = z.strictObject({
  server: z
    .strictObject({
      httpPort: port.default(8080),
      grpcPort: port.default(50051),
      bindAddress: z.string().min(1).optional(),
      /** `google.rpc.ErrorInfo.domain` of every error. */
      domain: z.string().min(1).default('subject-resolver'),
      bodyLimitBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
      workers: z.number().int().min(0).max(256).default(1),
      /** Upper bound on one resolution; past it the answer is 503, not a hang. */
      requestTimeoutMs: positiveMs(60_000).default(3_000),
      /** After SIGTERM: report not-ready for this long (while still serving) before closing. */
      shutdownDrainMs: z.number().int().min(0).max(300_000).optional(),
      /** Hard bound on the whole shutdown (drain + in-flight + pool); past it the process exits 1. */
      shutdownGraceMs: positiveMs(600_000).default(25_000),
    })
    .prefault({}),
  database: z
    .strictObject({
      url: postgresUrl.optional(),
      poolSize: z.number().int().min(1).max(200).default(10),
      connectTimeoutMs: positiveMs(60_000).default(2_000),
      statementTimeoutMs: positiveMs(60_000).default(2_000),
      /** Extra attempts after a failed store call, with `retryBackoffMs * 2^n` between them. */
      retryAttempts: z.number().int().min(0).max(5).default(2),
      retryBackoffMs: z.number().int().min(0).max(5_000).default(50),
      migrationsRun: z.boolean().default(true),
    })
    .prefault({}),
  embedded: z
    .strictObject({
      dataDir: z.string().min(1).default('./.data'),
      port: port.default(54329),
    })
    .prefault({}),
  limits: z
    .strictObject({ maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192) })
    .prefault({}),
  /** Cache bounds. Entries are also dropped on change notifications from the database. */
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** 0 = never. Otherwise, while the store is down, users cached before it went down keep resolving this long. */
      serveStaleOnOutageSeconds: z.number().int().min(0).max(3_600).default(0),
      tokens: z
        .strictObject({
          maxEntries: z.number().int().min(0).max(10_000_000).default(10_000),
          maxTtlSeconds: z.number().int().min(1).max(86_400).default(300),
        })
        .prefault({}),
      users: z
        .strictObject({
          // About 1.4 KB of heap per cached user: 20,000 keeps a worker with full default caches
          // within its 250 MB RSS budget (npm run bench, fill phase). A user needs to be cached
          // only while it is active within `ttlSeconds`.
          maxEntries: z.number().int().min(0).max(10_000_000).default(20_000),
          ttlSeconds: z.number().int().min(1).max(86_400).default(60),
        })
        .prefault({}),
      negative: z
        .strictObject({
          maxEntries: z.number().int().min(0).max(10_000_000).default(10_000),
          ttlSeconds: z.number().int().min(1).max(3_600).default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      tokenEnv: z.string().min(1).default('ADMIN_TOKEN'),
      tokenFile: z.string().min(1).optional(),
    })
    .prefault({}),
  authz: authzSchema,
  logging: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** Log subjects in clear; by default they are logged as a truncated sha256. */
      logSubjects: z.boolean().default(false),
      /** Human-readable lines instead of JSON; default on in embedded mode only. */
      pretty: z.boolean().optional(),
    })
    .prefault({}),
  issuers: z
    .array(issuerSchema)
    .default([])
    .superRefine((issuers, ctx) => {
      const seen = new Set<string>();
      issuers.forEach(({ issuer }, i) => {
        if (seen.has(issuer))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'issuer'],
            message: `duplicate issuer ${issuer}`,
          });
        seen.add(issuer);
      });
    }),
  scim: scimSchema,
  /** Shared Signals (SSF/CAEP/RISC) receiver: the transmitters whose events act on users. */
  ssf: ssfSchema,
  tls: tlsSchema,
  tracing: tracingFileSchema,
  /** Sender binding that is not per issuer: where a gateway forwards its client's certificate. */
  binding: bindingSchema,
});

/**
 * The file and the environment together, validated as one: the output is the runtime
 * configuration, except that secrets and files named by the config are still references that
 * `resolveSecrets` reads. Issues under `file` name the YAML field; under `env`, the variable.
 */
export const resolverConfigSchema = z
  .object({ file: configFileSchema, env: envOverlaySchema })
  .transform(({ file, env }, ctx) => {
    const databaseUrl = env.DATABASE_URL ?? file.database.url;
    const mode: 'embedded' | 'external' = databaseUrl !== undefined ? 'external' : 'embedded';
    const workers = workerCount(env.WORKERS ?? file.server.workers);
    if (mode === 'embedded' && workers > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['env', 'WORKERS'],
        message: 'more than one worker needs DATABASE_URL (embedded mode is single-process)',
      });
    }
    const bindAddress =
      env.BIND_ADDRESS ??
      file.server.bindAddress ??
      (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0');
    const httpPort = env.HTTP_PORT ?? file.server.httpPort;
    const issuers = file.issuers.map((issuer, i) => ({ ...issuer, origin: `issuers[${i}]` }));
    return {
      /** `embedded` = no database URL given: embedded Postgres and a development issuer. */
      mode,
      http: { port: httpPort, bindAddress, bodyLimitBytes: file.server.bodyLimitBytes },
      grpc: { port: env.GRPC_PORT ?? file.server.grpcPort, bindAddress },
      /** Processes serving HTTP and gRPC (`node:cluster`); 1 = no cluster. */
      workers,
      domain: file.server.domain,
      database: {
        ...file.database,
        /** Absent in embedded mode until the embedded server is up. */
        url: databaseUrl,
        migrationsRun: env.MIGRATIONS_RUN ?? file.database.migrationsRun,
      },
      embedded: {
        dataDir: resolve(env.DATA_DIR ?? file.embedded.dataDir),
        port: env.EMBEDDED_PG_PORT ?? file.embedded.port,
      },
      limits: file.limits,
      authz: {
        ...file.authz,
        assertion: {
          ...file.authz.assertion,
          issuer: file.authz.assertion.issuer ?? `urn:${file.server.domain}`,
        },
      },
      lifecycle: {
        requestTimeoutMs: file.server.requestTimeoutMs,
        // Embedded mode is a developer's terminal: Ctrl-C should not wait for a load balancer.
        shutdownDrainMs: file.server.shutdownDrainMs ?? (mode === 'embedded' ? 0 : 5_000),
        shutdownGraceMs: file.server.shutdownGraceMs,
      },
      logging: {
        level: env.LOG_LEVEL ?? file.logging.level,
        logSubjects: file.logging.logSubjects,
        pretty: file.logging.pretty ?? mode === 'embedded',
      },
      issuers,
      cache: file.cache,
      /** TLS per listener, certificate reloading, client-certificate callers (paths still relative). */
      tls: file.tls,
      /** OpenTelemetry traces: the file's section with the OTEL_* variables over it. */
      tracing: tracingSettings(file.tracing, env, (variable, message) =>
        ctx.addIssue({ code: 'custom', path: ['env', variable], message }),
      ),
      /** Forwarded client certificates: format, header, whom to believe (secret still a reference). */
      binding: file.binding,
      /** Where the admin credential is read from; absent = admin off (`resolveSecrets` reads it). */
      admin: adminSource(file.admin, env.ADMIN_TOKEN_FILE),
      adminEnabled: file.admin.enabled,
      /** Where the CLI finds the admin API (`RESOLVER_URL`, default this config's HTTP address). */
      adminUrl: env.RESOLVER_URL ?? localUrl(bindAddress, httpPort),
      /**
       * Whether the environment named the HTTP (`RESOLVER_URL`, `HTTP_PORT`) and gRPC
       * (`GRPC_PORT`) addresses: the CLI then uses them even where a running embedded server
       * recorded others.
       */
      addressesGiven: {
        http: env.RESOLVER_URL !== undefined || env.HTTP_PORT !== undefined,
        grpc: env.GRPC_PORT !== undefined,
      },
      scim: {
        ...file.scim,
        clients: file.scim.clients.map((client, i) => {
          // A client's subjects are normalised by its issuer's policy before they are linked.
          const issuer = issuers.find((x) => x.issuer === client.issuer);
          if (issuer) return { ...client, subject: issuer.subject };
          ctx.addIssue({
            code: 'custom',
            path: ['file', 'scim', 'clients', i, 'issuer'],
            message: `no issuer ${JSON.stringify(client.issuer)} in issuers[]: the users' tokens must verify`,
            input: client.issuer,
          });
          return z.NEVER;
        }),
      },
      ssf: {
        ...file.ssf,
        transmitters: file.ssf.transmitters.map((transmitter, i) => {
          // Subjects in the events are mapped by the resolver issuer's own subject policy.
          const issuer = issuers.find((x) => x.issuer === transmitter.resolver.issuer);
          if (issuer) return transmitter;
          ctx.addIssue({
            code: 'custom',
            path: ['file', 'ssf', 'transmitters', i, 'resolver', 'issuer'],
            message: `no issuer ${JSON.stringify(transmitter.resolver.issuer)} in issuers[]: the events act on its users`,
            input: transmitter.resolver.issuer,
          });
          return z.NEVER;
        }),
      },
    };
  });

/** The validated configuration before `resolveSecrets`: secrets and files still references. */
export type ValidatedConfig = z.output<typeof resolverConfigSchema>;

function workerCount(n: number): number {
  return n === 0 ? availableParallelism() : n;
}

function localUrl(bindAddress: string, port: number): string {
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Where the admin credential comes from: `ADMIN_TOKEN_FILE` (env) or `admin.tokenFile` win over
 * the token variable. `named` is the variable or YAML field a message about it names.
 */
function adminSource(
  admin: { enabled: boolean; tokenEnv: string; tokenFile?: string | undefined },
  envFile: string | undefined,
):
  | { readonly file: string; readonly named: 'ADMIN_TOKEN_FILE' | 'admin.tokenFile' }
  | { readonly env: string }
  | undefined {
  if (!admin.enabled) return undefined;
  if (envFile !== undefined) return { file: envFile, named: 'ADMIN_TOKEN_FILE' };
  if (admin.tokenFile !== undefined) return { file: admin.tokenFile, named: 'admin.tokenFile' };
  return { env: admin.tokenEnv };
}

/** The user store: URL (absent in embedded mode until its server is up), pool, timeouts, retries. */
export type DatabaseConfig = Immutable<ValidatedConfig['database']>;
/** Embedded mode's Postgres: data directory and port. */
export type EmbeddedConfig = Immutable<ValidatedConfig['embedded']>;
/** Cache bounds. Entries are also dropped on change notifications from the database. */
export type CacheConfig = Immutable<ValidatedConfig['cache']>;
/** The gateway-facing answers: forward-auth (`/v1/authz`) and Envoy ext_authz. */
export type AuthzConfig = Immutable<ValidatedConfig['authz']>;
/** The signed identity assertion added to allowed gateway answers. */
export type AssertionConfig = AuthzConfig['assertion'];
/** Level, whether subjects are logged in clear, and human-readable output. */
export type LoggingConfig = Immutable<ValidatedConfig['logging']>;
/** Deadlines and the shutdown sequence. */
export type LifecycleConfig = Immutable<ValidatedConfig['lifecycle']>;
