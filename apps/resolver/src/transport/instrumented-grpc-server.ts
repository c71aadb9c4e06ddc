import type { GrpcOptions } from '@nestjs/microservices';
import type { Server } from '@grpc/grpc-js';
import { Tracing } from '@resolver/observability';
import { traceUnary } from './request-tracing';
import { ResolverGrpcServer } from './resolver-grpc-server';
import type { TransportSecurity } from './tls/transport-security';

/** What grpc-js hands a unary handler, as far as the caller check uses it. */
interface UnaryCall {
  getPath(): string;
  getPeer(): string;
  metadata: import('@grpc/grpc-js').Metadata;
  request: unknown;
}
type UnaryMethod = (call: UnaryCall, callback: (error: unknown, value?: unknown) => void) => void;

/**
 * The gRPC transport with what only TLS deployments or tracing turn on, decided once per method
 * when the server is built, so that a plaintext, untraced deployment runs ResolverGrpcServer's
 * call path unchanged: the caller check (client-certificate callers configured), the TLS
 * connection guard on the bound servers (`tls.grpc`), and a server span per call (tracing on;
 * outermost, so that a refused caller is traced too).
 */
export class InstrumentedGrpcServer extends ResolverGrpcServer {
  constructor(
    options: GrpcOptions['options'],
    private readonly security: TransportSecurity,
    private readonly tracing: Tracing = Tracing.OFF,
  ) {
    super(options);
  }

  // The base class types handlers as `Function`; the override has to keep its signature.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  override createUnaryServiceMethod(methodHandler: Function): Function {
    const unary = super.createUnaryServiceMethod(methodHandler) as UnaryMethod;
    const guard = this.security.grpcCallGuard();
    const guarded: UnaryMethod = !guard
      ? unary
      : (call, callback) => {
          const refusal = guard(call);
          if (refusal) return callback(refusal);
          return unary(call, callback);
        };
    return this.tracing.on ? traceUnary(this.tracing, guarded) : guarded;
  }

  override async createClient(): Promise<Server> {
    const server = (await super.createClient()) as Server;
    try {
      this.security.secureGrpc(server);
    } catch (error) {
      server.forceShutdown();
      throw error;
    }
    return server;
  }
}
