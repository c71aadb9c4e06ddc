import { join } from 'node:path';
import type { Options as LoaderOptions } from '@grpc/proto-loader';

/**
 * The proto root (copied next to the build as an asset): `<repo>/proto` from source and
 * `<repo>/dist/proto` from the build.
 */
export const PROTO_ROOT = join(__dirname, '..', '..', '..', 'proto');

/**
 * The one description of the resolver's gRPC surface, shared by the server, the CLI, the bench
 * and the tests: the packages served, their .proto files and the loader options (which the
 * generated types in `grpc-types/` describe: `npm run proto:types`).
 */
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

/** Absolute paths of the served .proto files. */
export function protoFiles(): string[] {
  return RESOLVER_GRPC.protoPaths.map((p) => join(PROTO_ROOT, p));
}
