// Original file: proto/identity/v1/resolver.proto


export interface DiagnoseSubjectRequest {
  'token'?: (string);
  'scheme'?: (string);
  'dpopProof'?: (string);
  'method'?: (string);
  'uri'?: (string);
  'clientCertificate'?: (string);
}

export interface DiagnoseSubjectRequest__Output {
  'token': (string);
  'scheme': (string);
  'dpopProof': (string);
  'method': (string);
  'uri': (string);
  'clientCertificate': (string);
}
