import { DomainError } from '@resolver/reasons';

/**
 * What every admin-only route answers while the admin API is off (and /v1/diagnose, and gRPC
 * DiagnoseSubject): `message` says why it is off and how to enable it. Rendered by the one error
 * path: a 404 problem titled "Admin API disabled" over HTTP, UNIMPLEMENTED over gRPC.
 */
export class AdminDisabled extends DomainError<'ADMIN_DISABLED'> {
  override readonly name = 'AdminDisabled';
  constructor(why: string) {
    super('ADMIN_DISABLED', why);
  }
}
