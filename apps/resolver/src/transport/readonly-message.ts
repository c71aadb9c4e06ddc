/**
 * A generated message type as the encoder sees it: it only reads the value, so read-only arrays
 * fit — the warm path hands over a cached entry's own arrays instead of copying them.
 */
export type ReadonlyMessage<T> = T extends (infer E)[]
  ? readonly ReadonlyMessage<E>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyMessage<T[K]> }
    : T;
