/** Which subject of which issuer (in which tenant) an external identity stands for. */
export interface IdentityKey {
  readonly issuer: string;
  /** `''` when the issuer has no tenant claim. */
  readonly tenant: string;
  readonly subject: string;
}

/** A stored external identity: the federated link (issuer, tenant, subject) -> user. */
export interface ExternalIdentity extends IdentityKey {
  readonly id: string;
  readonly createdAt: Date;
}

/**
 * The `external_identities` table inside one transaction (see `IdentityTransactions`). A key
 * already linked to another user surfaces from the transaction as a `StoreRefusal` of kind
 * `unique` on `external_identities_key`.
 */
export interface ExternalIdentityTable {
  /** Links `key` to the user. */
  insert(userId: string, key: IdentityKey): Promise<ExternalIdentity>;
  /** Links `key` to the user unless it is linked already (to anyone); true when it linked. */
  insertIfAbsent(userId: string, key: IdentityKey): Promise<boolean>;
  /** The user's identities, oldest first. */
  listForUser(userId: string): Promise<ExternalIdentity[]>;
  /** Removes one identity of the user; false when the user has no identity with that id. */
  delete(userId: string, identityId: string): Promise<boolean>;
  /** The user `key` is linked to; `null` if none. */
  findUserId(key: IdentityKey): Promise<string | null>;
}
