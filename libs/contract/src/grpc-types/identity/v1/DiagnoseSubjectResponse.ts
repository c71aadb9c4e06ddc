// Original file: proto/identity/v1/resolver.proto

import type { DiagnosisStep as _identity_v1_DiagnosisStep, DiagnosisStep__Output as _identity_v1_DiagnosisStep__Output } from '../../identity/v1/DiagnosisStep';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface DiagnoseSubjectResponse {
  'verdict'?: (string);
  'outcome'?: (string);
  'httpStatus'?: (number);
  'source'?: (string);
  'steps'?: (_identity_v1_DiagnosisStep)[];
  'diagnosedAt'?: (_google_protobuf_Timestamp | null);
}

export interface DiagnoseSubjectResponse__Output {
  'verdict': (string);
  'outcome': (string);
  'httpStatus': (number);
  'source': (string);
  'steps': (_identity_v1_DiagnosisStep__Output)[];
  'diagnosedAt': (_google_protobuf_Timestamp__Output | null);
}
