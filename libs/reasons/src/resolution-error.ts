import { DomainError } from './domain-error';
import type { ReasonCode } from './reason-code';

/**
 * The refusal of a resolution: `reason` (its `code`) is one of the closed reason codes, mapped to
 * HTTP, gRPC and the metric label by {@link REASON_TABLE} alone; services never throw transport
 * errors.
 */
export class ResolutionError extends DomainError<ReasonCode> {
  override readonly name = 'ResolutionError';
  /** How the client may authenticate instead, when the refusal knows (the binding step does). */
  readonly challenge?: AuthChallenge;

  constructor(
    readonly reason: ReasonCode,
    message?: string,
    options?: { cause?: unknown; challenge?: AuthChallenge },
  ) {
    super(reason, message ?? reason, options);
    if (options?.challenge) this.challenge = options.challenge;
  }
}

/**
 * What a refusal tells the client about the schemes it may authenticate with (RFC 6750 §3,
 * RFC 9449 §7.1): whether a bearer token is accepted, the DPoP proof algorithms when DPoP is,
 * and a fresh server nonce for NONCE_REQUIRED. Transport-neutral: each surface renders it
 * (`WWW-Authenticate` and `DPoP-Nonce` on HTTP, ErrorInfo metadata on gRPC).
 */
export interface AuthChallenge {
  readonly bearer: boolean;
  /** Offered with the DPoP scheme; absent when DPoP is not accepted. */
  readonly dpopAlgs?: readonly string[];
  /** The nonce a retried proof must carry (RFC 9449 §8). */
  readonly nonce?: string;
}

/** True when `error` is a {@link ResolutionError}. */
export function isResolutionError(error: unknown): error is ResolutionError {
  return error instanceof ResolutionError;
}
