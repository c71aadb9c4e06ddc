import type {
  SignalState,
  PrincipalKind,
  Provenance,
  StatusDecisions,
  StatusState,
  UserStatus,
} from '@resolver/policy';

// Defined with the rules that decide them (libs/policy); the store's callers find them here too.
export type {
  LookupKey,
  NewUser,
  PrincipalKind,
  Provenance,
  StatusDecisions,
  StatusState,
  UserStatus,
} from '@resolver/policy';

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
  /** What shared signals did to the user (revoked sessions, ordering marks); absent = nothing. */
  readonly signals?: SignalState;
  readonly provenance: Provenance;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A stored user's status and the decisions behind it, as `decideStatus` takes them. */
export function statusStateOf(user: {
  readonly status: UserStatus;
  readonly statusDecisions: StatusDecisions;
}): StatusState {
  return { status: user.status, decisions: user.statusDecisions };
}
