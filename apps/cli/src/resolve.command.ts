import { parseArgs } from 'node:util';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ResolverConfig } from '@resolver/config';
import { decodeErrorInfo, protoFiles, RESOLVER_GRPC, resolutionBody } from '@resolver/contract';
import { readStdin } from './stdin';

export const RESOLVE_USAGE = `resolve (asks the resolver what ResolveSubject answers; no admin credential needed):
  resolve <token|-> [--grpc] [--address HOST:PORT]
      prints the answer (principal, token, source) as JSON on stdout, or the reason on stderr.
      HTTP POST /v1/resolve at RESOLVER_URL by default; --grpc calls
      identity.v1.SubjectResolver/ResolveSubject at 127.0.0.1:GRPC_PORT (or --address); both
      default to the running embedded resolver's ports.
      "-" reads the token from stdin. Exit status: 0 resolved, 1 refused or unreachable, 2 usage.`;

type Outcome = { ok: true; answer: unknown } | { ok: false; reason: string; detail: string };

/** `resolve <token|-> [--grpc]` */
export async function resolveCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { grpc: { type: 'boolean', default: false }, address: { type: 'string' } },
  });
  const [source] = positionals;
  if (!source || positionals.length > 1 || (values.address && !values.grpc)) {
    process.stderr.write(`${RESOLVE_USAGE}\n`);
    return 2;
  }
  const token = (source === '-' ? await readStdin() : source).trim();
  const outcome = values.grpc
    ? await viaGrpc(token, values.address ?? grpcAddress(config))
    : await viaHttp(token, config.adminUrl);
  if (outcome.ok) {
    process.stdout.write(`${JSON.stringify(outcome.answer, null, 2)}\n`);
    return 0;
  }
  process.stderr.write(`refused: ${outcome.reason} — ${outcome.detail}\n`);
  return 1;
}

/** Where this config's gRPC server listens, as a client reaches it. */
function grpcAddress(config: ResolverConfig): string {
  const { bindAddress, port } = config.grpc;
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function viaHttp(token: string, baseUrl: string): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/v1/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    return {
      ok: false,
      reason: 'UNREACHABLE',
      detail: `cannot reach ${baseUrl}: ${(error as Error).message} (is it running? set RESOLVER_URL)`,
    };
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.ok) return { ok: true, answer: body };
  return {
    ok: false,
    reason: typeof body.reason === 'string' ? body.reason : `HTTP_${res.status}`,
    detail: `${typeof body.title === 'string' ? body.title : res.statusText} (HTTP ${res.status})`,
  };
}

type Timestamp = { seconds?: string; nanos?: number } | null | undefined;

/** proto3 JSON of a Timestamp (RFC 3339), the form the HTTP answer uses too. */
function rfc3339(ts: Timestamp): string | undefined {
  if (!ts) return undefined;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function viaGrpc(token: string, address: string): Promise<Outcome> {
  const definition = loadSync(protoFiles(), {
    ...RESOLVER_GRPC.loader,
    includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    identity: { v1: { SubjectResolver: new (a: string, c: unknown) => ResolverStub } };
  };
  const client = new pkg.identity.v1.SubjectResolver(address, credentials.createInsecure());
  return new Promise<Outcome>((resolve) => {
    client.ResolveSubject(
      { token },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        client.close();
        if (!error) {
          const {
            principal,
            token: info,
            source,
          } = response as {
            principal?: unknown;
            token?: Record<string, unknown> & { expiresAt?: Timestamp; issuedAt?: Timestamp };
            source?: string;
          };
          // The same shape and field order as the HTTP answer (grpc-js' decoder puts repeated
          // and map fields first): principal, token, source, each as resolutionBody lists them.
          return resolve({
            ok: true,
            answer: {
              principal: inOrder(principal, Object.keys(resolutionBody.shape.principal.shape)),
              token:
                info &&
                inOrder(
                  {
                    ...info,
                    expiresAt: rfc3339(info.expiresAt),
                    issuedAt: rfc3339(info.issuedAt),
                  },
                  Object.keys(resolutionBody.shape.token.shape),
                ),
              source,
            },
          });
        }
        const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
        const reason = Buffer.isBuffer(bin) ? decodeErrorInfo(bin)?.reason : undefined;
        const code = GrpcStatus[error.code] ?? String(error.code);
        resolve(
          reason
            ? {
                ok: false,
                reason,
                detail: `${error.details.replace(`${reason}: `, '')} (gRPC ${code})`,
              }
            : {
                ok: false,
                reason: code === 'UNAVAILABLE' ? 'UNREACHABLE' : code,
                detail: `${address}: ${error.details} (is it running? set GRPC_PORT or --address)`,
              },
        );
      },
    );
  });
}

interface ResolverStub {
  ResolveSubject(
    request: { token: string },
    metadata: Metadata,
    options: { deadline: number },
    callback: (error: ServiceError | null, response: unknown) => void,
  ): void;
  close(): void;
}

/** `value`'s fields in the order of `keys` (fields not listed keep their place after them). */
function inOrder(value: unknown, keys: readonly string[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in source) out[k] = source[k];
  for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v;
  return out;
}
