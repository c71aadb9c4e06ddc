import type { Metadata } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TextMapGetter, Tracing } from '@resolver/observability';

/**
 * A server span per request, for a resolver with tracing on (nothing here runs when it is off):
 * the caller's W3C `traceparent` / `tracestate` continued (a malformed one is ignored: a new
 * trace starts), the handler run in the span's context so that the pipeline's step spans and
 * the IdP and store calls are its children. A span names the route template or the gRPC
 * method, never the path a caller sent (a forward-auth path is the caller's URI).
 */

type Headers = FastifyRequest['headers'];

/** Own header values only: a header named `__proto__` or `constructor` reads nothing. */
const HEADERS: TextMapGetter<Headers> = {
  get: (headers, key) => (Object.hasOwn(headers, key) ? headers[key] : undefined),
  keys: (headers) => Object.keys(headers),
};

const METADATA: TextMapGetter<Metadata> = {
  get: (metadata, key) => {
    const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
    return values.length ? values : undefined;
  },
  keys: (metadata) => Object.keys(metadata.getMap()),
};

const TRACED = Symbol('resolver.trace');
type Traced = FastifyRequest & { [TRACED]?: { span: Span; ctx: Context } };

/** Every HTTP route: a server span from `onRequest` to `onResponse`, the handler in its context. */
export function traceHttp(fastify: FastifyInstance, tracing: Tracing): void {
  fastify.addHook('onRequest', (request: Traced, _reply, done) => {
    const parent = tracing.extract(request.headers, HEADERS);
    const route = request.routeOptions.url;
    const span = tracing.startServer(
      route ? `${request.method} ${route}` : request.method,
      parent,
      {
        'http.request.method': request.method,
        ...(route ? { 'http.route': route } : {}),
        'url.scheme': request.protocol,
        'network.protocol.version': request.raw.httpVersion,
      },
    );
    request[TRACED] = { span, ctx: trace.setSpan(parent, span) };
    done();
  });
  // Fastify calls the handler from the last preHandler's `done`, so it runs in this context.
  fastify.addHook('preHandler', (request: Traced, _reply, done) => {
    const traced = request[TRACED];
    if (traced) context.with(traced.ctx, done);
    else done();
  });
  const end = (request: Traced, statusCode: number | undefined) => {
    const traced = request[TRACED];
    if (!traced) return;
    request[TRACED] = undefined;
    if (statusCode !== undefined) {
      traced.span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    } else traced.span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
    traced.span.end();
  };
  fastify.addHook('onResponse', (request: Traced, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request: Traced, done) => {
    end(request, undefined);
    done();
  });
}

/** What grpc-js hands a unary handler, as far as tracing reads it. */
export interface TracedCall {
  getPath(): string;
  metadata: Metadata;
  request: unknown;
}
type Callback = (error: unknown, value?: unknown) => void;
type Unary<C extends TracedCall> = (call: C, callback: Callback) => void;

/** Statuses that are the server's failure (OpenTelemetry's gRPC conventions). */
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/**
 * Envoy's ext_authz `Check`: the checked request's own headers, where the gateway's trace
 * context is when the call's metadata carries none (Envoy without tracing of its own).
 */
export function checkedRequestHeaders(request: unknown): Record<string, string> | undefined {
  const http = (request as { attributes?: { request?: { http?: { headers?: unknown } } } })
    ?.attributes?.request?.http;
  const headers = http?.headers;
  return typeof headers === 'object' && headers !== null
    ? (headers as Record<string, string>)
    : undefined;
}

const OWN_STRINGS: TextMapGetter<Record<string, string>> = {
  get: (headers, key) =>
    Object.hasOwn(headers, key) && typeof headers[key] === 'string' ? headers[key] : undefined,
  keys: (headers) => Object.keys(headers),
};

/** A unary gRPC method in a server span, its handler run in the span's context. */
export function traceUnary<C extends TracedCall>(tracing: Tracing, unary: Unary<C>): Unary<C> {
  return (call, callback) => {
    const path = call.getPath().replace(/^\//, '');
    let parent = tracing.extract(call.metadata, METADATA);
    if (!trace.getSpanContext(parent)) {
      const headers = checkedRequestHeaders(call.request);
      if (headers) parent = tracing.extract(headers, OWN_STRINGS);
    }
    const [service, method] = path.split('/');
    const span = tracing.startServer(path, parent, {
      'rpc.system': 'grpc',
      'rpc.service': service ?? '',
      'rpc.method': method ?? '',
    });
    context.with(trace.setSpan(parent, span), () =>
      unary(call, (error, value) => {
        const code = error ? grpcCode(error) : GrpcStatus.OK;
        span.setAttribute('rpc.grpc.status_code', code);
        if (SERVER_ERRORS.has(code))
          span.setStatus({ code: SpanStatusCode.ERROR, message: GrpcStatus[code] });
        span.end();
        callback(error, value);
      }),
    );
  };
}

function grpcCode(error: unknown): number {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : GrpcStatus.UNKNOWN;
}
