/**
 * The base of every error the resolver's own code throws to say "no": a refusal, not a failure.
 * Like `jose`'s `JOSEError`, one base class whose `code` is stable and machine-readable, from a
 * closed union per kind (a reason code, an admin kind, a SCIM error kind, a store refusal);
 * `message` is for logs only and never holds a token, key material or SQL.
 *
 * Whatever is not a DomainError is a failure (an outage, a bug): the store's retry policy lets
 * DomainErrors through untouched, and the edge tells them apart by class and code. No domain
 * error carries a transport status: each surface maps codes to its own answer in one place (the
 * reason table for reasons; the app's renderers for the others).
 */
export abstract class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
