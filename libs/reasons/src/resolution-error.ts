import { DomainError } from './domain-error';
import type { ReasonCode } from './reason-code';

/**
 * The refusal of a resolution: `reason` (its `code`) is one of the closed reason codes, mapped to
 * HTTP, gRPC and the metric label by {@link REASON_TABLE} alone; services never throw transport
 * errors.
 */
export class ResolutionError extends DomainError<ReasonCode> {
  override readonly name = 'ResolutionError';

  constructor(
    readonly reason: ReasonCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(reason, message ?? reason, options);
  }
}

/** True when `error` is a {@link ResolutionError}. */
export function isResolutionError(error: unknown): error is ResolutionError {
  return error instanceof ResolutionError;
}
