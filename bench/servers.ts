import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, listening, type Pinning, startProcess } from './processes';
import { AUD } from './tokens';

export const ISS = 'https://bench.idp.local';
export const JIT_ISS = 'https://bench-jit.idp.local';
/** Keys from a JWKS the bench serves and can hang (the "IdP hang" scenario). */
export const JWKS_ISS = 'https://bench-jwks.idp.local';

/** A started server: its process, HTTP base URL and gRPC address. */
export interface BenchServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly address: string;
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
  readonly workers: number;
  readonly nodeOptions: string;
  readonly profileDir?: string;
  readonly pinning?: Pinning;
  readonly children: ChildProcess[];
}

/** A bare baseline (bench/baselines.ts) of `kind`, on the server core. */
export async function startBaseline(ctx: ServerContext, kind: string): Promise<BenchServer> {
  const port = await freePort();
  const child = await startProcess(
    [
      join(ctx.dist, 'bench', 'baselines.js'),
      ...['--kind', kind, '--port', String(port), '--key', join(ctx.work, 'issuer.pem')],
      ...['--issuer', ISS, '--audience', AUD, '--database', ctx.dbUrl],
    ],
    process.env,
    async () =>
      kind.startsWith('grpc')
        ? listening(port)
        : (await fetch(`http://127.0.0.1:${port}/v1/resolve`, { method: 'POST' })).status > 0,
    ctx.pinning?.server,
  );
  ctx.children.push(child);
  return { child, url: `http://127.0.0.1:${port}`, address: `127.0.0.1:${port}` };
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
  database: Record<string, unknown> = { poolSize: 20 },
): Promise<ResolverServer> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const config = join(ctx.work, `${name}.yaml`);
  const issuer = (iss: string, extra: Record<string, unknown> = {}) => ({
    issuer: iss,
    audiences: [AUD],
    algorithms: ['ES256'],
    keys: [join(ctx.work, 'issuer.pem')],
    ...extra,
  });
  await writeFile(
    config,
    stringify({
      server: { httpPort, grpcPort, bindAddress: '127.0.0.1', workers: ctx.workers },
      database,
      logging: { level: 'error' },
      cache,
      issuers: [
        issuer(ISS),
        issuer(JIT_ISS, { jit: { enabled: true } }),
        {
          issuer: JWKS_ISS,
          audiences: [AUD],
          algorithms: ['ES256'],
          jwksUri: ctx.jwksUrl,
          // Held out in the issue: keys stale after 2 s, a 500 ms fetch timeout; refetches
          // every second while the IdP hangs (the worst case for a request's latency).
          jwks: { cacheMaxAgeMs: 2_000, timeoutMs: 500, cooldownMs: 1_000 },
        },
      ],
    }),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const child = await startProcess(
    [
      ...(ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`] : []),
      ...ctx.nodeOptions.split(/\s+/).filter(Boolean),
      join(ctx.dist, 'apps/resolver/src/main.js'),
    ],
    { PATH: process.env.PATH, RESOLVER_CONFIG: config, DATABASE_URL: ctx.dbUrl },
    async () =>
      (
        (await (await fetch(`${url}/health/ready`)).json()) as {
          details?: { listener?: { cachesInUse?: boolean } };
        }
      ).details?.listener?.cachesInUse === true,
    ctx.pinning?.server,
  );
  ctx.children.push(child);
  return { child, url, address: `127.0.0.1:${grpcPort}`, uniqueTokens: 0 };
}
