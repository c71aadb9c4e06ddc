// Original file: proto/identity/v1/resolver.proto


export interface DiagnoseSubjectRequest {
  'token'?: (string);
}

export interface DiagnoseSubjectRequest__Output {
  'token': (string);
}
