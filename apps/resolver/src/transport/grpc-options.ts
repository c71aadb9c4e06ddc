import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { protoFiles, RESOLVER_GRPC } from '@resolver/contract';

/**
 * Every service the gRPC server registers, as server reflection lists them. Each must be in
 * `proto/descriptor-set.binpb` (see `scripts/proto-descriptors.sh`); the boot checks it.
 */
export const REFLECTED_SERVICES = [
  'identity.v1.SubjectResolver',
  'envoy.service.auth.v3.Authorization',
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
] as const;

/** gRPC service names whose health the resolver reports ('' is the whole server). */
export const GRPC_HEALTH_SERVICES = [
  '',
  'identity.v1.SubjectResolver',
  'envoy.service.auth.v3.Authorization',
];

/** Nest microservice options for the gRPC server: the wire contract's protos, bounded. */
export function grpcServerOptions(
  url: string,
  onLoadPackageDefinition?: GrpcOptions['options']['onLoadPackageDefinition'],
): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: [...RESOLVER_GRPC.packages],
      protoPath: protoFiles(),
      url,
      loader: { ...RESOLVER_GRPC.loader, includeDirs: [...RESOLVER_GRPC.loader.includeDirs] },
      onLoadPackageDefinition,
      // A token is at most a few KiB; nothing legitimate needs the 4 MiB default.
      maxReceiveMessageLength: 256 * 1024,
      maxMetadataSize: 64 * 1024,
      // Channelz (grpc-js's per-call counters and traces for its admin service) is not served
      // here, and it cost its share of every call.
      channelOptions: { 'grpc.enable_channelz': 0 },
      // On close, finish in-flight calls (tryShutdown) instead of cutting them (forceShutdown).
      gracefulShutdown: true,
    },
  };
}
