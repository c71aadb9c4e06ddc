import type { StatusState } from './operator-decisions';

/**
 * The principal a token or a writer names, as the admission rules see it: plain types, below
 * persistence, so the JIT admission (this lib), the store (libs/identity) and the pipeline share
 * one definition.
 */
/** A principal's kind: a person, or a machine client (client-credentials tokens). */
export type PrincipalKind = 'user' | 'service';
export type Provenance = 'admin' | 'jit' | 'scim' | 'import';

/** Fields for a new user; the store fills id and timestamps. */
export interface NewUser {
  readonly tenant: string;
  /** `''` (the operator's) when absent. */
  readonly namespace?: string;
  readonly kind: PrincipalKind;
  readonly email?: string | null;
  readonly username?: string | null;
  readonly displayName?: string | null;
  readonly roles?: readonly string[];
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** As `decideStatus` decided it for the creating writer; active with no decision when absent. */
  readonly status?: StatusState;
  readonly provenance: Provenance;
}

/**
 * What the resolver looks a user up by. `tenant` is `''` when the issuer has no tenant claim;
 * `subject` is already normalised by the issuer's subject policy.
 */
export interface LookupKey {
  readonly issuer: string;
  readonly tenant: string;
  readonly subject: string;
  readonly strategy: 'external' | 'id' | 'email' | 'username';
  readonly kind: PrincipalKind;
}
