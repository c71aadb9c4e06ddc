import { DomainError } from '@resolver/reasons';

/**
 * Why a Security Event Token (or its delivery) was refused: the error codes of RFC 8935 §2.3
 * (push) and RFC 8936 §2.4.4 (poll `setErrs`). The push route maps each to its HTTP status in
 * one place; a poller reports it back to the transmitter as it is.
 */
export type SetErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed'
  | 'access_denied';

export const SET_ERROR_CODES: readonly SetErrorCode[] = [
  'invalid_request',
  'invalid_key',
  'invalid_issuer',
  'invalid_audience',
  'authentication_failed',
  'access_denied',
];

/** A refused SET. `description` names the member at fault; it never holds the SET itself. */
export class SetError extends DomainError<SetErrorCode> {
  override readonly name = 'SetError';
  constructor(
    code: SetErrorCode,
    readonly description: string,
  ) {
    super(code, description);
  }
}

export function isSetError(error: unknown): error is SetError {
  return error instanceof SetError;
}
