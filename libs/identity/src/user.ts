import type { StatusDecisions, StatusState, UserStatus } from '@resolver/policy';

export type { StatusDecisions, StatusState, UserStatus } from '@resolver/policy';

/** A principal's kind: a person, or a machine client (client-credentials tokens). */
export type PrincipalKind = 'user' | 'service';
export type Provenance = 'admin' | 'jit' | 'scim' | 'import';

/** A user as the resolver sees it: plain data, no ORM attached. */
export interface UserRecord {
  readonly id: string;
  readonly tenant: string;
  /**
   * Whose identifiers its email and username are: the issuer whose SCIM client or JIT wrote it,
   * or `''`, the operator's (admin, import). Email and username are unique per namespace and
   * tenant among live users.
   */
  readonly namespace: string;
  readonly kind: PrincipalKind;
  readonly email: string | null;
  readonly username: string | null;
  readonly displayName: string | null;
  readonly roles: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: UserStatus;
  /** Which writers' restrictions `status` is made of (see `decideStatus`). */
  readonly statusDecisions: StatusDecisions;
  readonly deletedAt: Date | null;
  readonly tokensValidAfter: Date | null;
  readonly provenance: Provenance;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

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

/** A stored user's status and the decisions behind it, as `decideStatus` takes them. */
export function statusStateOf(user: {
  readonly status: UserStatus;
  readonly statusDecisions: StatusDecisions;
}): StatusState {
  return { status: user.status, decisions: user.statusDecisions };
}
