// Original file: proto/identity/v1/resolver.proto


export interface ResolveSubjectRequest {
  'token'?: (string);
  'dpopProof'?: (string);
  'method'?: (string);
  'uri'?: (string);
  'clientCertificate'?: (string);
}

export interface ResolveSubjectRequest__Output {
  'token': (string);
  'dpopProof': (string);
  'method': (string);
  'uri': (string);
  'clientCertificate': (string);
}
