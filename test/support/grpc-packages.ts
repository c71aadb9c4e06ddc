import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoFiles, RESOLVER_GRPC } from '../../apps/resolver/src/transport/grpc-options';
import type { ProtoGrpcType as ExtAuthzProto } from '../../apps/resolver/src/transport/grpc-types/external_auth';
import type { ProtoGrpcType as ResolverProto } from '../../apps/resolver/src/transport/grpc-types/resolver';

/**
 * The served packages loaded with the server's own options, typed by the types generated from
 * the same protos (`npm run proto:types`): the cast is how proto-loader-gen-types is used.
 */
export function loadGrpcPackages(): ResolverProto & ExtAuthzProto {
  const definition = loadSync(protoFiles(), {
    ...RESOLVER_GRPC.loader,
    includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
  });
  return loadPackageDefinition(definition) as unknown as ResolverProto & ExtAuthzProto;
}
