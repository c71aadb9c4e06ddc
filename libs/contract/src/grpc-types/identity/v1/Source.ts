// Original file: proto/identity/v1/resolver.proto

export const Source = {
  SOURCE_UNSPECIFIED: 'SOURCE_UNSPECIFIED',
  CACHE: 'CACHE',
  STORE: 'STORE',
  PROVISIONED: 'PROVISIONED',
} as const;

export type Source =
  | 'SOURCE_UNSPECIFIED'
  | 0
  | 'CACHE'
  | 1
  | 'STORE'
  | 2
  | 'PROVISIONED'
  | 3

export type Source__Output = typeof Source[keyof typeof Source]
