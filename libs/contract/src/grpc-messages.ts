// The generated message and service types the resolver, the CLI, the bench and the tests use,
// under one import (`@resolver/contract`); the files under grpc-types/ are generated.
export type { ProtoGrpcType as ResolverProto } from './grpc-types/resolver';
export type { ProtoGrpcType as ExtAuthzProto } from './grpc-types/external_auth';
export type { SubjectResolverClient } from './grpc-types/identity/v1/SubjectResolver';
export type { ResolveSubjectRequest__Output } from './grpc-types/identity/v1/ResolveSubjectRequest';
export type { ResolveSubjectResponse } from './grpc-types/identity/v1/ResolveSubjectResponse';
export type {
  DiagnoseSubjectRequest,
  DiagnoseSubjectRequest__Output,
} from './grpc-types/identity/v1/DiagnoseSubjectRequest';
export type { DiagnoseSubjectResponse } from './grpc-types/identity/v1/DiagnoseSubjectResponse';
export type { AuthorizationClient } from './grpc-types/envoy/service/auth/v3/Authorization';
export type {
  CheckRequest,
  CheckRequest__Output,
} from './grpc-types/envoy/service/auth/v3/CheckRequest';
export type { CheckResponse } from './grpc-types/envoy/service/auth/v3/CheckResponse';
export type { HeaderValueOption } from './grpc-types/envoy/config/core/v3/HeaderValueOption';
