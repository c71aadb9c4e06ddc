import { randomUUID } from 'node:crypto';

/** The header (and gRPC metadata key) that carries a caller's request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What we accept from a caller: short, printable, no spaces (it lands in every log line). */
const ACCEPTABLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** Three base64url segments: a caller that put its JWT in the request id must not get it logged. */
const LOOKS_LIKE_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The request id for one call: the caller's `x-request-id` (header or gRPC metadata) when it is a
 * sane identifier, otherwise a fresh UUID. Never a token, never unbounded, never multi-line.
 */
export function requestIdFrom(value: unknown): string {
  const candidate = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (
    typeof candidate === 'string' &&
    ACCEPTABLE.test(candidate) &&
    !LOOKS_LIKE_JWT.test(candidate)
  ) {
    return candidate;
  }
  return randomUUID();
}
