import type { DestinationStream } from 'pino';
import type { Clock } from '@resolver/observability';
import { buildConfig, type Environment } from '@resolver/config';
import { type RunningResolver, startResolver } from '../../apps/resolver/src/resolver-app';
import { ResolverGrpcClient, type GrpcResult } from './grpc-client';
import { freePort, isPortInUse } from './ports';

export interface HarnessOptions {
  readonly databaseUrl: string;
  readonly issuers: unknown[];
  readonly clock?: Clock;
  /** Extra top-level config sections (merged over the harness defaults). */
  readonly config?: Record<string, Record<string, unknown>>;
  readonly env?: Environment;
  /** Captures the structured log lines (set `config.logging.level` too; default silent). */
  readonly logDestination?: DestinationStream;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
}

/** The real hybrid app on loopback ports, with an HTTP helper and a gRPC client. */
export class ResolverHarness {
  private constructor(
    readonly resolver: RunningResolver,
    readonly grpc: ResolverGrpcClient,
  ) {}

  static async start(options: HarnessOptions): Promise<ResolverHarness> {
    // Ports the harness picked can be taken by another suite between the check and the bind:
    // pick again (bounded). Ports a suite chose itself are its own business.
    const ownPorts = options.config?.server?.httpPort === undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await ResolverHarness.startOnce(options);
      } catch (error) {
        if (!ownPorts || attempt >= 3 || !isPortInUse(error)) throw error;
      }
    }
  }

  private static async startOnce(options: HarnessOptions): Promise<ResolverHarness> {
    const raw = {
      ...options.config,
      server: {
        httpPort: await freePort(),
        grpcPort: await freePort(),
        bindAddress: '127.0.0.1',
        ...options.config?.server,
      },
      database: {
        url: options.databaseUrl,
        retryAttempts: 1,
        retryBackoffMs: 20,
        connectTimeoutMs: 1_000,
        ...options.config?.database,
      },
      // Quiet by default: suites that assert on log lines capture them at a real level.
      logging: { level: 'silent', ...options.config?.logging },
      issuers: options.issuers,
    };
    const config = buildConfig(raw, options.env ?? {}, {
      source: 'test config',
      baseDir: process.cwd(),
    });
    const resolver = await startResolver(config, {
      clock: options.clock,
      logger: false,
      logDestination: options.logDestination,
    });
    return new ResolverHarness(resolver, new ResolverGrpcClient(resolver.grpcAddress));
  }

  get url(): string {
    return this.resolver.httpUrl;
  }

  async http(path: string, init: RequestInit = {}): Promise<HttpResult> {
    const res = await fetch(`${this.url}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (metrics): keep text.
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** POST /v1/resolve with the token in the Authorization header (or a raw header / body). */
  resolveHttp(request: {
    token?: string;
    authorization?: string;
    body?: unknown;
  }): Promise<HttpResult> {
    const headers: Record<string, string> = {};
    const authorization =
      request.authorization ??
      (request.token !== undefined ? `Bearer ${request.token}` : undefined);
    if (authorization !== undefined) headers.authorization = authorization;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    return this.http('/v1/resolve', {
      method: 'POST',
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  }

  resolveGrpc(request: { token?: string; authorization?: string }): Promise<GrpcResult> {
    return this.grpc.resolve(request);
  }

  async close(): Promise<void> {
    this.grpc.close();
    await this.resolver.close();
  }
}
