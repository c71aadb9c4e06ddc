// Original file: proto/identity/v1/resolver.proto


export interface ResolveSubjectRequest {
  'token'?: (string);
}

export interface ResolveSubjectRequest__Output {
  'token': (string);
}
