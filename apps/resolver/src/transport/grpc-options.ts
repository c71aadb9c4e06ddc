import { join } from 'node:path';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import type { Options as LoaderOptions } from '@grpc/proto-loader';

/**
 * The one description of the resolver's gRPC surface, shared by `main.ts` and the tests: the
 * proto root (copied next to the build as an asset), the packages served and the loader options.
 * Resolves to `<repo>/proto` from source and `<repo>/dist/proto` from the build.
 */
export const PROTO_ROOT = join(__dirname, '..', '..', '..', '..', 'proto');

export const RESOLVER_GRPC = {
  packages: ['identity.v1', 'envoy.service.auth.v3'],
  protoPaths: ['identity/v1/resolver.proto', 'envoy/service/auth/v3/external_auth.proto'],
  loader: {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTO_ROOT],
  } satisfies LoaderOptions,
} as const;

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

/** Absolute paths of the served .proto files. */
export function protoFiles(): string[] {
  return RESOLVER_GRPC.protoPaths.map((p) => join(PROTO_ROOT, p));
}

/** Nest microservice options for the gRPC server. */
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
