import type { Provider } from '@nestjs/common';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors, Tracing } from '@resolver/observability';
import { hardenGrpcDefinitions } from './grpc-hardening';
import { grpcServerOptions, REFLECTED_SERVICES } from './grpc-options';
import { hostPort } from './host-port';
import { DescriptorIndex } from './reflection/descriptor-index';
import { DESCRIPTOR_SET_PATH, ServerReflection } from './reflection/server-reflection';
import { InstrumentedGrpcServer } from './instrumented-grpc-server';
import { GrpcLanes } from './grpc-lanes';
import { ResolverGrpcServer } from './resolver-grpc-server';
import { TransportSecurity } from './tls/transport-security';

/**
 * The gRPC transport strategy the bootstrap connects: the served protos hardened against
 * malformed messages, plus server reflection and the health service on the same server; over
 * TLS with `tls.grpc`, with the connection and caller guards only where the config asks for them,
 * and a server span per call only with tracing on.
 */
export const GRPC_SERVER_PROVIDER: Provider = {
  provide: ResolverGrpcServer,
  inject: [
    RESOLVER_CONFIG,
    InternalErrors,
    HealthImplementation,
    TransportSecurity,
    Tracing,
    GrpcLanes,
  ],
  useFactory: (
    config: ResolverConfig,
    internalErrors: InternalErrors,
    grpcHealth: HealthImplementation,
    security: TransportSecurity,
    tracing: Tracing,
    lanes: GrpcLanes,
  ) => {
    const reflection = new ServerReflection(
      DescriptorIndex.load(DESCRIPTOR_SET_PATH),
      REFLECTED_SERVICES,
    );
    const address = hostPort(config.grpc.bindAddress, config.grpc.port);
    const options = {
      ...grpcServerOptions(address, (pkg: PackageDefinition, server: Server) => {
        hardenGrpcDefinitions(pkg, internalErrors);
        reflection.addToServer(server);
        grpcHealth.addToServer(server);
      }).options,
      credentials: security.grpcServerCredentials(),
    };
    return config.tls.grpc || security.policy.enforced || tracing.on
      ? new InstrumentedGrpcServer(options, security, tracing)
      : new ResolverGrpcServer(options, lanes);
  },
};
