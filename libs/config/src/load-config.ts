import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath } from './config-error';
import { configFileSchema, type IssuerFileEntry, LOG_LEVELS } from './config.schema';
import type {
  Algorithm,
  IssuerConfig,
  KeySourceConfig,
  LogLevel,
  ResolverConfig,
} from './config.types';

/** The environment the resolver reads; every other module gets typed config instead. */
export type Environment = Readonly<Record<string, string | undefined>>;

const MIN_HMAC_SECRET_BYTES = 32;

/**
 * Loads and validates the configuration once: the YAML file named by `RESOLVER_CONFIG` (if any),
 * then the environment overrides (`DATABASE_URL`, `HTTP_PORT`, `GRPC_PORT`, `BIND_ADDRESS`,
 * `DATA_DIR`, `MIGRATIONS_RUN`, `LOG_LEVEL`). Throws {@link ConfigError} naming the bad field.
 */
export function loadConfig(env: Environment = process.env): ResolverConfig {
  const path = env.RESOLVER_CONFIG;
  if (!path) return buildConfig({}, env, { source: 'defaults', baseDir: process.cwd() });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`RESOLVER_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  return buildConfig(raw, env, { source: path, baseDir: dirname(resolve(path)) });
}

/** Validates an already-parsed configuration object (tests build config this way). */
export function buildConfig(
  raw: unknown,
  env: Environment,
  where: { source: string; baseDir: string },
): ResolverConfig {
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${where.source}: ${describeIssues(parsed.error)}`);
  const file = parsed.data;

  const databaseUrl = envString(env, 'DATABASE_URL') ?? file.database.url;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL: must be a postgres:// URL');
  }
  const mode = databaseUrl ? 'external' : 'embedded';
  const bindAddress =
    envString(env, 'BIND_ADDRESS') ??
    file.server.bindAddress ??
    (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0');
  const seen = new Set<string>();
  const issuers = file.issuers.map((entry, i) => {
    if (seen.has(entry.issuer)) {
      throw new ConfigError(
        `${where.source}: issuers[${i}].issuer: duplicate issuer ${entry.issuer}`,
      );
    }
    seen.add(entry.issuer);
    return toIssuerConfig(entry, `issuers[${i}]`, env, where);
  });

  return {
    mode,
    http: {
      port: envPort(env, 'HTTP_PORT') ?? file.server.httpPort,
      bindAddress,
      bodyLimitBytes: file.server.bodyLimitBytes,
    },
    grpc: { port: envPort(env, 'GRPC_PORT') ?? file.server.grpcPort, bindAddress },
    domain: file.server.domain,
    database: {
      url: databaseUrl,
      poolSize: file.database.poolSize,
      connectTimeoutMs: file.database.connectTimeoutMs,
      statementTimeoutMs: file.database.statementTimeoutMs,
      retryAttempts: file.database.retryAttempts,
      retryBackoffMs: file.database.retryBackoffMs,
      migrationsRun: envBoolean(env, 'MIGRATIONS_RUN') ?? file.database.migrationsRun,
    },
    embedded: {
      dataDir: resolve(envString(env, 'DATA_DIR') ?? file.embedded.dataDir),
      port: envPort(env, 'EMBEDDED_PG_PORT') ?? file.embedded.port,
    },
    limits: { maxTokenBytes: file.limits.maxTokenBytes },
    lifecycle: {
      requestTimeoutMs: file.server.requestTimeoutMs,
      // Embedded mode is a developer's terminal: Ctrl-C should not wait for a load balancer.
      shutdownDrainMs: file.server.shutdownDrainMs ?? (mode === 'embedded' ? 0 : 5_000),
      shutdownGraceMs: file.server.shutdownGraceMs,
    },
    logging: {
      level: envLogLevel(env, 'LOG_LEVEL') ?? file.logging.level,
      logSubjects: file.logging.logSubjects,
      pretty: file.logging.pretty ?? mode === 'embedded',
    },
    issuers,
    source: where.source,
  };
}

function toIssuerConfig(
  entry: IssuerFileEntry,
  origin: string,
  env: Environment,
  where: { source: string; baseDir: string },
): IssuerConfig {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${where.source}: ${origin}.${field}: ${message}`);
  };
  let keySource: KeySourceConfig;
  if (entry.discovery) keySource = { kind: 'discovery' };
  else if (entry.jwksUri) keySource = { kind: 'jwks', uri: entry.jwksUri };
  else if (entry.keys) {
    const paths = entry.keys.map((p) => (isAbsolute(p) ? p : resolve(where.baseDir, p)));
    paths.forEach((p, i) => {
      try {
        readFileSync(p);
      } catch (error) {
        fail(`keys[${i}]`, `cannot read ${p}: ${(error as Error).message}`);
      }
    });
    keySource = { kind: 'files', paths };
  } else if (entry.hmacSecretEnv) {
    const value = env[entry.hmacSecretEnv];
    if (!value) fail('hmacSecretEnv', `environment variable ${entry.hmacSecretEnv} is not set`);
    keySource = {
      kind: 'hmac',
      secret: checkSecret(Buffer.from(value as string, 'utf8'), 'hmacSecretEnv', fail),
    };
  } else {
    const file = entry.hmacSecretFile as string;
    const path = isAbsolute(file) ? file : resolve(where.baseDir, file);
    let secret: Buffer = Buffer.alloc(0);
    try {
      // A trailing newline from `echo` is not part of the secret.
      secret = Buffer.from(readFileSync(path, 'utf8').replace(/\r?\n$/, ''), 'utf8');
    } catch (error) {
      fail('hmacSecretFile', `cannot read ${path}: ${(error as Error).message}`);
    }
    keySource = { kind: 'hmac', secret: checkSecret(secret, 'hmacSecretFile', fail) };
  }

  const subjectClaim = entry.subject.claim;
  const requiredClaims = [...new Set([...entry.requiredClaims])];
  return {
    issuer: entry.issuer,
    keySource,
    audiences: entry.audiences,
    algorithms: entry.algorithms as Algorithm[],
    clockToleranceSeconds: entry.clockToleranceSeconds,
    // The subject claim is checked by the subject mapper with its own reasons, not by jose.
    requiredClaims: requiredClaims.filter((c) => c !== subjectClaim),
    jwks: entry.jwks,
    subject: {
      claim: subjectClaim,
      lookup: entry.subject.lookup,
      normalize: {
        ...entry.subject.normalize,
        lowercase: entry.subject.normalize.lowercase || entry.subject.lookup === 'email',
      },
      pattern:
        entry.subject.pattern === undefined ? undefined : new RegExp(entry.subject.pattern, 'u'),
      maxLength: entry.subject.maxLength,
    },
    tenant: entry.tenant,
    jit: {
      enabled: entry.jit.enabled,
      requiredClaims: entry.jit.requiredClaims,
      map: entry.jit.map as IssuerConfig['jit']['map'],
      defaultRoles: entry.jit.defaultRoles,
    },
    origin,
  };
}

function checkSecret(
  secret: Buffer,
  field: string,
  fail: (f: string, m: string) => never,
): Uint8Array {
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    fail(
      field,
      `HMAC secret is ${secret.length} bytes; at least ${MIN_HMAC_SECRET_BYTES} are required`,
    );
  }
  return new Uint8Array(secret);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
        return `${keys.join(', ')}: unknown field`;
      }
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

function envString(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function envPort(env: Environment, name: string): number | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new ConfigError(`${name}: must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return n;
}

function envLogLevel(env: Environment, name: string): LogLevel | undefined {
  const value = envString(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(value))
    throw new ConfigError(
      `${name}: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return value as LogLevel;
}

function envBoolean(env: Environment, name: string): boolean | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`${name}: must be true or false, got ${JSON.stringify(value)}`);
}
