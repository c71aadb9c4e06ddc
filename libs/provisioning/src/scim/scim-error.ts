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
 * A refused SCIM request: its HTTP status, its `scimType` (for 400 and 409) and a detail that
 * names the attribute. The one error the SCIM use cases throw; the transport renders it as an
 * RFC 7644 §3.12 error body.
 */
export class ScimError extends Error {
  override readonly name = 'ScimError';
  /** Rolls the request's transaction back without counting as a store failure. */
  readonly notAStoreFailure = true;
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }

  static invalid(scimType: ScimType, detail: string): ScimError {
    return new ScimError(400, scimType, detail);
  }

  static notFound(detail: string): ScimError {
    return new ScimError(404, undefined, detail);
  }
}
