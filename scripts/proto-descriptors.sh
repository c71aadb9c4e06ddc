#!/usr/bin/env bash
# Regenerates proto/descriptor-set.binpb, the FileDescriptorSet that gRPC server reflection
# serves. protoc writes it from the real .proto files (original field names, map entries as
# protoc names them, every dependency), so strict clients (grpcurl, Python's descriptor_pool,
# Postman) accept it. Run after changing any served .proto; `npm test` fails while it is stale.
# Needs protoc with the well-known types (Debian: protobuf-compiler libprotobuf-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-proto/descriptor-set.binpb}"
# Keep in step with REFLECTED_SERVICES in apps/resolver/src/transport/grpc-options.ts.
protoc -I proto --include_imports --descriptor_set_out="$out" \
  identity/v1/resolver.proto \
  envoy/service/auth/v3/external_auth.proto \
  grpc/health/v1/health.proto \
  grpc/reflection/v1/reflection.proto \
  grpc/reflection/v1alpha/reflection.proto
