// Original file: proto/identity/v1/resolver.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DiagnoseSubjectRequest as _identity_v1_DiagnoseSubjectRequest, DiagnoseSubjectRequest__Output as _identity_v1_DiagnoseSubjectRequest__Output } from '../../identity/v1/DiagnoseSubjectRequest';
import type { DiagnoseSubjectResponse as _identity_v1_DiagnoseSubjectResponse, DiagnoseSubjectResponse__Output as _identity_v1_DiagnoseSubjectResponse__Output } from '../../identity/v1/DiagnoseSubjectResponse';
import type { ResolveSubjectRequest as _identity_v1_ResolveSubjectRequest, ResolveSubjectRequest__Output as _identity_v1_ResolveSubjectRequest__Output } from '../../identity/v1/ResolveSubjectRequest';
import type { ResolveSubjectResponse as _identity_v1_ResolveSubjectResponse, ResolveSubjectResponse__Output as _identity_v1_ResolveSubjectResponse__Output } from '../../identity/v1/ResolveSubjectResponse';

export interface SubjectResolverClient extends grpc.Client {
  DiagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  DiagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  DiagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  DiagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  diagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  diagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  diagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  diagnoseSubject(argument: _identity_v1_DiagnoseSubjectRequest, callback: grpc.requestCallback<_identity_v1_DiagnoseSubjectResponse__Output>): grpc.ClientUnaryCall;
  
  ResolveSubject(argument: _identity_v1_ResolveSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  ResolveSubject(argument: _identity_v1_ResolveSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  ResolveSubject(argument: _identity_v1_ResolveSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  ResolveSubject(argument: _identity_v1_ResolveSubjectRequest, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  resolveSubject(argument: _identity_v1_ResolveSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  resolveSubject(argument: _identity_v1_ResolveSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  resolveSubject(argument: _identity_v1_ResolveSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  resolveSubject(argument: _identity_v1_ResolveSubjectRequest, callback: grpc.requestCallback<_identity_v1_ResolveSubjectResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface SubjectResolverHandlers extends grpc.UntypedServiceImplementation {
  DiagnoseSubject: grpc.handleUnaryCall<_identity_v1_DiagnoseSubjectRequest__Output, _identity_v1_DiagnoseSubjectResponse>;
  
  ResolveSubject: grpc.handleUnaryCall<_identity_v1_ResolveSubjectRequest__Output, _identity_v1_ResolveSubjectResponse>;
  
}

export interface SubjectResolverDefinition extends grpc.ServiceDefinition {
  DiagnoseSubject: MethodDefinition<_identity_v1_DiagnoseSubjectRequest, _identity_v1_DiagnoseSubjectResponse, _identity_v1_DiagnoseSubjectRequest__Output, _identity_v1_DiagnoseSubjectResponse__Output>
  ResolveSubject: MethodDefinition<_identity_v1_ResolveSubjectRequest, _identity_v1_ResolveSubjectResponse, _identity_v1_ResolveSubjectRequest__Output, _identity_v1_ResolveSubjectResponse__Output>
}
