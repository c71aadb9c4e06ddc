import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath } from './config-error';
import {
  checkDatabaseUrl,
  type Environment,
  envBoolean,
  envLogLevel,
  envPort,
  envString,
} from './env-values';
import { type ConfigFile, configFileSchema, type IssuerFileEntry } from './config.schema';
import {
  type IssuerConfig,
  type KeySourceConfig,
  type ResolverConfig,
  RFC9068_REQUIRED_CLAIMS,
  type ScimClientConfig,
  type ScimConfig,
} from './config.types';

export type { Environment } from './env-values';

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

  // Set but empty is a mistake (a missing secret), not a request for embedded mode: that would
  // quietly start a throwaway database in production.
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL.trim() === '') {
    throw new ConfigError(
      'DATABASE_URL: is set but empty; unset it for embedded mode, or give a postgres:// URL',
    );
  }
  const databaseUrl = envString(env, 'DATABASE_URL') ?? file.database.url;
  if (databaseUrl !== undefined) checkDatabaseUrl(databaseUrl);
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
    workers: workerCount(envString(env, 'WORKERS') ?? file.server.workers, mode),
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
    authz: {
      headers: file.authz.headers,
      exposeReasonHeader: file.authz.exposeReasonHeader,
      reasonHeader: file.authz.reasonHeader,
      assertion: {
        enabled: file.authz.assertion.enabled,
        header: file.authz.assertion.header,
        issuer: file.authz.assertion.issuer ?? `urn:${file.server.domain}`,
        audience: file.authz.assertion.audience ?? '',
        ttlSeconds: file.authz.assertion.ttlSeconds,
        keyFile: assertionKeyFile(file.authz.assertion.keyFile, where),
      },
    },
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
    cache: file.cache,
    admin: adminCredential(file.admin, env, where),
    adminEnabled: file.admin.enabled,
    adminUrl: adminUrl(env, bindAddress, envPort(env, 'HTTP_PORT') ?? file.server.httpPort),
    scim: scimConfig(file.scim, issuers, env, where.source),
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
  // The RFC 9068 profile requires its claims and the at+jwt type on top of the issuer's own.
  const requiredClaims = [
    ...new Set([...entry.requiredClaims, ...(entry.rfc9068 ? RFC9068_REQUIRED_CLAIMS : [])]),
  ];
  return {
    issuer: entry.issuer,
    keySource,
    audiences: entry.audiences,
    algorithms: entry.algorithms,
    clockToleranceSeconds: entry.clockToleranceSeconds,
    // The subject claim is checked by the subject mapper with its own reasons, not by jose.
    requiredClaims: requiredClaims.filter((c) => c !== subjectClaim),
    typ: entry.typ ?? (entry.rfc9068 ? 'at+jwt' : undefined),
    maxTokenAgeSeconds: entry.maxTokenAgeSeconds,
    jwks: entry.jwks,
    subject: {
      claim: subjectClaim,
      lookup: entry.subject.lookup,
      // The email lookup's own fold (ASCII case) is applied by the lookup, not as `lowercase`:
      // full Unicode lowercasing would merge distinct addresses (U+212A KELVIN SIGN into "k").
      normalize: entry.subject.normalize,
      pattern:
        entry.subject.pattern === undefined ? undefined : new RegExp(entry.subject.pattern, 'u'),
      maxLength: entry.subject.maxLength,
    },
    tenant: entry.tenant,
    serviceAccounts: entry.serviceAccounts,
    jit: {
      enabled: entry.jit.enabled,
      requiredClaims: entry.jit.requiredClaims,
      map: entry.jit.map as IssuerConfig['jit']['map'],
      defaultRoles: entry.jit.defaultRoles,
    },
    origin,
  };
}

/** `WORKERS`: a count, or 0 / `auto` for one per core. Cluster mode needs an external database. */
function workerCount(value: string | number, mode: 'embedded' | 'external'): number {
  const n = value === 'auto' ? 0 : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 256) {
    throw new ConfigError(
      `WORKERS: must be a whole number 0..256 or "auto", got ${JSON.stringify(value)}`,
    );
  }
  const workers = n === 0 ? availableParallelism() : n;
  if (workers > 1 && mode === 'embedded') {
    throw new ConfigError(
      'WORKERS: more than one worker needs DATABASE_URL (embedded mode is single-process)',
    );
  }
  return workers;
}

const MIN_ADMIN_TOKEN_BYTES = 24;

/**
 * SCIM clients: each credential kept only as its sha256, each client tied to a configured issuer
 * (its users' tokens must verify, and their subjects are normalised by that issuer's policy).
 */
function scimConfig(
  scim: ConfigFile['scim'],
  issuers: readonly IssuerConfig[],
  env: Environment,
  source: string,
): ScimConfig {
  const clients = scim.clients.map((c, i): ScimClientConfig => {
    const at = `${source}: scim.clients[${i}]`;
    const issuer = issuers.find((x) => x.issuer === c.issuer);
    if (!issuer) {
      throw new ConfigError(
        `${at}.issuer: no issuer ${JSON.stringify(c.issuer)} in issuers[]: the users' tokens must verify`,
      );
    }
    let hash: Buffer;
    if (c.tokenEnv !== undefined) {
      const token = envString(env, c.tokenEnv);
      if (token === undefined)
        throw new ConfigError(`${at}.tokenEnv: environment variable ${c.tokenEnv} is not set`);
      if (Buffer.byteLength(token) < MIN_ADMIN_TOKEN_BYTES)
        throw new ConfigError(
          `${at}.tokenEnv: the SCIM credential must be at least ${MIN_ADMIN_TOKEN_BYTES} bytes`,
        );
      hash = createHash('sha256').update(token, 'utf8').digest();
    } else {
      hash = Buffer.from(c.tokenSha256 as string, 'hex');
    }
    return {
      id: c.id,
      tokenSha256: new Uint8Array(hash),
      issuer: c.issuer,
      tenant: c.tenant,
      subjectAttribute: c.subjectAttribute as ScimClientConfig['subjectAttribute'],
      groupRoles: c.groupRoles,
      subject: issuer.subject,
    };
  });
  return {
    maxResults: scim.maxResults,
    maxOperations: scim.maxOperations,
    maxMembersPerGroup: scim.maxMembersPerGroup,
    clients,
  };
}

function adminUrl(env: Environment, bindAddress: string, port: number): string {
  const url = envString(env, 'RESOLVER_URL');
  if (url !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(url))
      throw new ConfigError('RESOLVER_URL: must be an http(s) URL');
    return url.replace(/\/+$/, '');
  }
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The admin bearer secret from `ADMIN_TOKEN` (or the configured env/file); absent = admin off. */
function adminCredential(
  admin: { enabled: boolean; tokenEnv: string; tokenFile?: string },
  env: Environment,
  where: { source: string; baseDir: string },
): { token: Uint8Array } | undefined {
  if (!admin.enabled) return undefined;
  let token: string | undefined;
  let field = admin.tokenEnv;
  const file = envString(env, 'ADMIN_TOKEN_FILE') ?? admin.tokenFile;
  if (file) {
    field = envString(env, 'ADMIN_TOKEN_FILE')
      ? 'ADMIN_TOKEN_FILE'
      : `${where.source}: admin.tokenFile`;
    const path = isAbsolute(file) ? file : resolve(where.baseDir, file);
    try {
      token = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`${field}: cannot read ${path}: ${(error as Error).message}`);
    }
  } else {
    token = envString(env, admin.tokenEnv);
  }
  if (token === undefined) return undefined;
  if (Buffer.byteLength(token) < MIN_ADMIN_TOKEN_BYTES) {
    throw new ConfigError(
      `${field}: the admin token must be at least ${MIN_ADMIN_TOKEN_BYTES} bytes`,
    );
  }
  return { token: new Uint8Array(Buffer.from(token, 'utf8')) };
}

/** The assertion signing key file, checked readable at boot. */
function assertionKeyFile(
  file: string | undefined,
  where: { source: string; baseDir: string },
): string | undefined {
  if (file === undefined) return undefined;
  const path = isAbsolute(file) ? file : resolve(where.baseDir, file);
  try {
    readFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `${where.source}: authz.assertion.keyFile: cannot read ${path}: ${(error as Error).message}`,
    );
  }
  return path;
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
