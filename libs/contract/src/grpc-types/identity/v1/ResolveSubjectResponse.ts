// Original file: proto/identity/v1/resolver.proto

import type { Principal as _identity_v1_Principal, Principal__Output as _identity_v1_Principal__Output } from '../../identity/v1/Principal';
import type { TokenInfo as _identity_v1_TokenInfo, TokenInfo__Output as _identity_v1_TokenInfo__Output } from '../../identity/v1/TokenInfo';
import type { Source as _identity_v1_Source, Source__Output as _identity_v1_Source__Output } from '../../identity/v1/Source';

export interface ResolveSubjectResponse {
  'principal'?: (_identity_v1_Principal | null);
  'token'?: (_identity_v1_TokenInfo | null);
  'source'?: (_identity_v1_Source);
}

export interface ResolveSubjectResponse__Output {
  'principal': (_identity_v1_Principal__Output | null);
  'token': (_identity_v1_TokenInfo__Output | null);
  'source': (_identity_v1_Source__Output);
}
