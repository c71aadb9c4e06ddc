import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  protoFiles,
  RESOLVER_GRPC,
  type ExtAuthzProto,
  type ResolverProto,
} from '@resolver/contract';

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
