import type { ReasonCode } from './reason-code';

/**
 * The one domain error of the resolver. Like `jose`'s `JOSEError.code`, `reason` is stable and
 * machine-readable; `message` is for logs only and must never contain a token, key material or
 * SQL. Transports map it through {@link REASON_TABLE}; services never throw transport errors.
 */
export class ResolutionError extends Error {
  override readonly name = 'ResolutionError';

  constructor(
    readonly reason: ReasonCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? reason, options);
  }
}

/** True when `error` is a {@link ResolutionError}. */
export function isResolutionError(error: unknown): error is ResolutionError {
  return error instanceof ResolutionError;
}
