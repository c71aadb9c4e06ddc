import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { DiagnoseSubjectRequest as _identity_v1_DiagnoseSubjectRequest, DiagnoseSubjectRequest__Output as _identity_v1_DiagnoseSubjectRequest__Output } from './identity/v1/DiagnoseSubjectRequest';
import type { DiagnoseSubjectResponse as _identity_v1_DiagnoseSubjectResponse, DiagnoseSubjectResponse__Output as _identity_v1_DiagnoseSubjectResponse__Output } from './identity/v1/DiagnoseSubjectResponse';
import type { DiagnosisStep as _identity_v1_DiagnosisStep, DiagnosisStep__Output as _identity_v1_DiagnosisStep__Output } from './identity/v1/DiagnosisStep';
import type { Principal as _identity_v1_Principal, Principal__Output as _identity_v1_Principal__Output } from './identity/v1/Principal';
import type { ResolveSubjectRequest as _identity_v1_ResolveSubjectRequest, ResolveSubjectRequest__Output as _identity_v1_ResolveSubjectRequest__Output } from './identity/v1/ResolveSubjectRequest';
import type { ResolveSubjectResponse as _identity_v1_ResolveSubjectResponse, ResolveSubjectResponse__Output as _identity_v1_ResolveSubjectResponse__Output } from './identity/v1/ResolveSubjectResponse';
import type { SubjectResolverClient as _identity_v1_SubjectResolverClient, SubjectResolverDefinition as _identity_v1_SubjectResolverDefinition } from './identity/v1/SubjectResolver';
import type { TokenInfo as _identity_v1_TokenInfo, TokenInfo__Output as _identity_v1_TokenInfo__Output } from './identity/v1/TokenInfo';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  identity: {
    v1: {
      DiagnoseSubjectRequest: MessageTypeDefinition<_identity_v1_DiagnoseSubjectRequest, _identity_v1_DiagnoseSubjectRequest__Output>
      DiagnoseSubjectResponse: MessageTypeDefinition<_identity_v1_DiagnoseSubjectResponse, _identity_v1_DiagnoseSubjectResponse__Output>
      DiagnosisStep: MessageTypeDefinition<_identity_v1_DiagnosisStep, _identity_v1_DiagnosisStep__Output>
      Principal: MessageTypeDefinition<_identity_v1_Principal, _identity_v1_Principal__Output>
      ResolveSubjectRequest: MessageTypeDefinition<_identity_v1_ResolveSubjectRequest, _identity_v1_ResolveSubjectRequest__Output>
      ResolveSubjectResponse: MessageTypeDefinition<_identity_v1_ResolveSubjectResponse, _identity_v1_ResolveSubjectResponse__Output>
      Source: EnumTypeDefinition
      SubjectResolver: SubtypeConstructor<typeof grpc.Client, _identity_v1_SubjectResolverClient> & { service: _identity_v1_SubjectResolverDefinition }
      TokenInfo: MessageTypeDefinition<_identity_v1_TokenInfo, _identity_v1_TokenInfo__Output>
    }
  }
}

