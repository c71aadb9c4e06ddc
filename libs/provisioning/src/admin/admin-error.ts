/** Why an admin change was refused; mapped to 400 / 404 / 409 in one place (the admin filter). */
export type AdminErrorKind = 'INVALID' | 'NOT_FOUND' | 'CONFLICT';

/** A refused admin change. `field` names the offending input field for INVALID and CONFLICT. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  /** An answer for the operator: the store's retry policy passes it through untouched. */
  readonly notAStoreFailure = true;
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
