// Original file: proto/identity/v1/resolver.proto


export interface DiagnosisStep {
  'step'?: (string);
  'title'?: (string);
  'status'?: (string);
  'finding'?: (string);
  'fix'?: (string);
  'unverified'?: (boolean);
  'detailsJson'?: (string);
}

export interface DiagnosisStep__Output {
  'step': (string);
  'title': (string);
  'status': (string);
  'finding': (string);
  'fix': (string);
  'unverified': (boolean);
  'detailsJson': (string);
}
