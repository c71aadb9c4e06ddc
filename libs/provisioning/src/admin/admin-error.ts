import { DomainError } from '@resolver/reasons';

/** Why an admin change was refused; the app's problem renderer maps each to its status. */
/** `UPSTREAM`: a system the change needs (a Shared Signals transmitter) failed or answered badly. */
export type AdminErrorKind = 'INVALID' | 'NOT_FOUND' | 'CONFLICT' | 'UPSTREAM';

/** A refused admin change. `field` names the offending input field for INVALID and CONFLICT. */
export class AdminError extends DomainError<AdminErrorKind> {
  override readonly name = 'AdminError';
  constructor(
    kind: AdminErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(kind, message);
  }

  /** The admin API's name for {@link code}: the problem document's title. */
  get kind(): AdminErrorKind {
    return this.code;
  }
}
