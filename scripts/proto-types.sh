#!/usr/bin/env bash
# Regenerates libs/contract/src/grpc-types/, the TypeScript types of the gRPC messages and
# services, from the served .proto files with proto-loader-gen-types (from @grpc/proto-loader,
# with the loader options of RESOLVER_GRPC in libs/contract/src/grpc-contract.ts, so the types
# describe what the loader really hands over). Run after changing a .proto; `npm test` fails
# while the committed types are stale (libs/contract/src/grpc-types.spec.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-libs/contract/src/grpc-types}"
rm -rf "$out"
node_modules/.bin/proto-loader-gen-types \
  --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js \
  -I proto -O "$out" \
  identity/v1/resolver.proto \
  envoy/service/auth/v3/external_auth.proto >/dev/null
