import type { GrpcOptions } from '@nestjs/microservices';
import type { Server } from '@grpc/grpc-js';
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
 * The gRPC transport with what only TLS deployments turn on, decided once per method when the
 * server is built, so that a plaintext deployment runs ResolverGrpcServer's call path unchanged:
 * the caller check (client-certificate callers configured) and the TLS connection guard on the
 * bound servers (`tls.grpc`).
 */
export class InstrumentedGrpcServer extends ResolverGrpcServer {
  constructor(
    options: GrpcOptions['options'],
    private readonly security: TransportSecurity,
  ) {
    super(options);
  }

  // The base class types handlers as `Function`; the override has to keep its signature.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  override createUnaryServiceMethod(methodHandler: Function): Function {
    const unary = super.createUnaryServiceMethod(methodHandler) as UnaryMethod;
    const guard = this.security.grpcCallGuard();
    if (!guard) return unary;
    return ((call, callback) => {
      const refusal = guard(call);
      if (refusal) return callback(refusal);
      return unary(call, callback);
    }) satisfies UnaryMethod;
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
