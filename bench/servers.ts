import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { INTROSPECTION_SECRET, ISS, JIT_ISS, JWKS_ISS, OPAQUE_ISS } from './issuers';
import { freePort, listening, type Pinning, startProcess } from './processes';
import { AUD } from './tokens';

/** A started server: its process, HTTP base URL and gRPC address. */
export interface BenchServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly address: string;
  /** A resolver's /metrics (its V8 heap beside the RSS); none for a baseline. */
  readonly metricsUrl?: string;
}

/** A resolver, counting the fresh tokens it was sent (the RSS target needs >= 200k). */
export interface ResolverServer extends BenchServer {
  uniqueTokens: number;
}

/** What the servers share: where things are, the cores, and the list of children to stop. */
export interface ServerContext {
  readonly dist: string;
  readonly work: string;
  readonly dbUrl: string;
  readonly jwksUrl: string;
  /** The static issuer's public key (PEM). */
  readonly staticKey: string;
  /** The static issuer's JWE decryption key file and PASETO key (PASERK): the formats scenario. */
  readonly encryptionKey: string;
  readonly pasetoPaserk: string;
  /** Every issuer's public keys, for the verifying baselines (JSON, bench/issuers.ts). */
  readonly keysFile: string;
  readonly workers: number;
  /** Node flags of every server: start:prod's unless told otherwise. */
  readonly nodeOptions: string;
  readonly profileDir?: string;
  readonly pinning?: Pinning;
  readonly children: ChildProcess[];
}

const flags = (nodeOptions: string) => nodeOptions.split(/\s+/).filter(Boolean);

/**
 * With --profile, every server (resolvers and baselines alike) writes a V8 CPU profile, so a
 * scenario's profile can be set against its baseline's, cut to the same run (windows.json).
 */
const profileFlags = (ctx: ServerContext, server: string) =>
  ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, server)}`] : [];

/** A Node server of the bench (`script` under dist/bench), started like the resolver. */
async function startBenchServer(
  ctx: ServerContext,
  name: string,
  script: string,
  args: readonly string[],
  grpc: boolean,
): Promise<BenchServer> {
  const port = await freePort();
  const child = await startProcess(
    [
      ...profileFlags(ctx, name),
      ...flags(ctx.nodeOptions),
      join(ctx.dist, 'bench', script),
      ...['--port', String(port), '--keys', ctx.keysFile, '--audience', AUD],
      ...['--database', ctx.dbUrl, '--jwks', ctx.jwksUrl, ...args],
    ],
    process.env,
    async () =>
      grpc
        ? listening(port)
        : (await fetch(`http://127.0.0.1:${port}/v1/resolve`, { method: 'POST' })).status > 0,
    ctx.pinning?.server,
  );
  ctx.children.push(child);
  return { child, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}` };
}

/** A bare baseline (bench/baselines.ts) of `kind`, on the server core, with the servers' flags. */
export function startBaseline(ctx: ServerContext, kind: string): Promise<BenchServer> {
  return startBenchServer(ctx, kind, 'baselines.js', ['--kind', kind], kind.startsWith('grpc'));
}

/** The usual recipe (bench/passport-recipe.ts): passport-jwt + jwks-rsa + TypeORM findOne. */
export function startRecipe(ctx: ServerContext): Promise<BenchServer> {
  return startBenchServer(ctx, 'recipe', 'passport-recipe.js', ['--issuer', JWKS_ISS], false);
}

/**
 * The resolver as deployed: the built service, WORKERS processes, its own config file (the
 * bench's issuers, `cache` overrides, `database` settings: a pool of 20 unless given),
 * started as `npm run start:prod` starts it (node flags only from `nodeOptions`), ready once
 * its caches listen for changes.
 */
export async function startResolver(
  ctx: ServerContext,
  name: string,
  cache: Record<string, unknown>,
  nodeOptions = ctx.nodeOptions,
  database: Record<string, unknown> = { poolSize: 20 },
  /** More top-level config sections (`tracing`). */
  extra: Record<string, unknown> = {},
): Promise<ResolverServer> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const config = join(ctx.work, `${name}.yaml`);
  const issuer = (iss: string, extra: Record<string, unknown> = {}) => ({
    issuer: iss,
    audiences: [AUD],
    algorithms: ['ES256'],
    keys: [ctx.staticKey],
    ...extra,
  });
  await writeFile(
    config,
    stringify({
      server: { httpPort, grpcPort, bindAddress: '127.0.0.1', workers: ctx.workers },
      database,
      logging: { level: 'error' },
      cache,
      ...extra,
      issuers: [
        issuer(ISS, {
          decryption: { keys: [{ kid: 'bench-enc', file: ctx.encryptionKey }] },
          paseto: { keys: [{ kid: 'bench-paseto', paserk: ctx.pasetoPaserk }] },
        }),
        issuer(JIT_ISS, { jit: { enabled: true } }),
        {
          issuer: JWKS_ISS,
          audiences: [AUD],
          algorithms: ['RS256', 'ES256'],
          jwksUri: ctx.jwksUrl,
          // Held out in the issue: keys stale after 2 s, a 500 ms fetch timeout; refetches
          // every second while the IdP hangs (the worst case for a request's latency).
          jwks: { cacheMaxAgeMs: 2_000, timeoutMs: 500, cooldownMs: 1_000 },
        },
        // Opaque tokens, introspected at the bench's endpoint (scenario-opaque.ts).
        issuer(OPAQUE_ISS, {
          introspection: {
            endpoint: ctx.jwksUrl.replace(/\/jwks$/, '/introspect'),
            prefix: 'bop_',
            cacheCapSeconds: 300,
            clientAuth: {
              method: 'client_secret_basic',
              clientId: 'rs',
              clientSecretEnv: 'BENCH_INTROSPECTION_SECRET',
            },
          },
        }),
      ],
    }),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const child = await startProcess(
    [
      ...profileFlags(ctx, name),
      ...flags(nodeOptions),
      join(ctx.dist, 'apps/resolver/src/main.js'),
    ],
    {
      PATH: process.env.PATH,
      RESOLVER_CONFIG: config,
      DATABASE_URL: ctx.dbUrl,
      BENCH_INTROSPECTION_SECRET: INTROSPECTION_SECRET,
    },
    async () =>
      (
        (await (await fetch(`${url}/health/ready`)).json()) as {
          details?: { listener?: { cachesInUse?: boolean } };
        }
      ).details?.listener?.cachesInUse === true,
    ctx.pinning?.server,
  );
  ctx.children.push(child);
  return {
    child,
    url,
    address: `127.0.0.1:${grpcPort}`,
    metricsUrl: `${url}/metrics`,
    uniqueTokens: 0,
  };
}
