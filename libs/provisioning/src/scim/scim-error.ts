import { DomainError } from '@resolver/reasons';

/** The `scimType` values of RFC 7644 §3.12 this service answers with. */
export type ScimType =
  | 'uniqueness'
  | 'mutability'
  | 'invalidValue'
  | 'invalidFilter'
  | 'invalidPath'
  | 'invalidSyntax'
  | 'invalidVers'
  | 'noTarget'
  | 'tooMany'
  | 'sensitive';

/**
 * What kind of refusal a SCIM request met (RFC 7644 §3.12): the request is invalid (with its
 * `scimType`), the client is not authenticated, the resource is missing, a unique attribute is
 * taken, `If-Match` names another version, or the feature is not implemented. The app's SCIM
 * renderer maps each to its HTTP status, in one table.
 */
export type ScimErrorCode =
  | 'invalid'
  | 'unauthorized'
  | 'notFound'
  | 'conflict'
  | 'preconditionFailed'
  | 'notImplemented';

/**
 * A refused SCIM request: its kind, its `scimType` (for invalid and conflict) and a detail that
 * names the attribute. The one error the SCIM use cases throw; the app renders it as an RFC 7644
 * §3.12 error body.
 */
export class ScimError extends DomainError<ScimErrorCode> {
  override readonly name = 'ScimError';
  constructor(
    code: ScimErrorCode,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(code, detail);
  }

  static invalid(scimType: ScimType, detail: string): ScimError {
    return new ScimError('invalid', detail, scimType);
  }

  static notFound(detail: string): ScimError {
    return new ScimError('notFound', detail);
  }

  /** A unique attribute (`userName`, an email, the subject) is held by another resource. */
  static uniqueness(detail: string): ScimError {
    return new ScimError('conflict', detail, 'uniqueness');
  }
}
