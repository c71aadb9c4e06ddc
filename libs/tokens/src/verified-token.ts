import type { IssuerConfig } from '@resolver/config';

/** A token whose signature, issuer, audience and time claims have been checked. */
export interface VerifiedToken {
  readonly issuer: IssuerConfig;
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly subject: unknown;
  readonly audience: readonly string[];
  readonly expiresAt?: Date;
  readonly issuedAt?: Date;
  readonly jti?: string;
  readonly scopes: readonly string[];
}
