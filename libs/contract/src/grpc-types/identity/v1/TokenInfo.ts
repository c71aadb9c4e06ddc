// Original file: proto/identity/v1/resolver.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface TokenInfo {
  'issuer'?: (string);
  'subject'?: (string);
  'audience'?: (string)[];
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'issuedAt'?: (_google_protobuf_Timestamp | null);
  'jti'?: (string);
  'scopes'?: (string)[];
}

export interface TokenInfo__Output {
  'issuer': (string);
  'subject': (string);
  'audience': (string)[];
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'issuedAt': (_google_protobuf_Timestamp__Output | null);
  'jti': (string);
  'scopes': (string)[];
}
