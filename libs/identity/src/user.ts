/** A principal's kind: a person, or a machine client (client-credentials tokens). */
export type PrincipalKind = 'user' | 'service';
export type UserStatus = 'active' | 'disabled' | 'locked';
export type Provenance = 'admin' | 'jit' | 'scim' | 'import';

/** A user as the resolver sees it: plain data, no ORM attached. */
export interface UserRecord {
  readonly id: string;
  readonly tenant: string;
  readonly kind: PrincipalKind;
  readonly email: string | null;
  readonly username: string | null;
  readonly displayName: string | null;
  readonly roles: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: UserStatus;
  readonly deletedAt: Date | null;
  readonly tokensValidAfter: Date | null;
  readonly provenance: Provenance;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Fields for a new user; the store fills id and timestamps. */
export interface NewUser {
  readonly tenant: string;
  readonly kind: PrincipalKind;
  readonly email?: string | null;
  readonly username?: string | null;
  readonly displayName?: string | null;
  readonly roles?: readonly string[];
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly status?: UserStatus;
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
