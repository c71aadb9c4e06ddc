/**
 * The configuration is built once at boot and only read afterwards: every type derived from
 * the schema is exposed read-only, all the way down (zod's output types are mutable).
 */
export type Immutable<T> = T extends RegExp | Uint8Array | ((...args: never[]) => unknown)
  ? T
  : T extends readonly (infer U)[]
    ? readonly Immutable<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Immutable<T[K]> }
      : T;
