// Original file: proto/identity/v1/resolver.proto


export interface Principal {
  'id'?: (string);
  'kind'?: (string);
  'tenantId'?: (string);
  'email'?: (string);
  'username'?: (string);
  'displayName'?: (string);
  'roles'?: (string)[];
  'status'?: (string);
  'attributes'?: ({[key: string]: string});
}

export interface Principal__Output {
  'id': (string);
  'kind': (string);
  'tenantId': (string);
  'email': (string);
  'username': (string);
  'displayName': (string);
  'roles': (string)[];
  'status': (string);
  'attributes': ({[key: string]: string});
}
