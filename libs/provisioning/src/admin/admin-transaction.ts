import { type IdentityTables, IdentityTransactions, StoreRefusal } from '@resolver/identity';
import { AdminError } from './admin-error';

/** Which admin field each unique index protects, for 409 messages. */
const CONSTRAINT_FIELDS: Readonly<Record<string, string>> = {
  users_tenant_email_live_key: 'email',
  users_tenant_email_fold_live_key: 'email',
  users_tenant_username_live_key: 'username',
  external_identities_key: 'identities',
};

/**
 * Runs admin work in one identity transaction, with the store's refusals as the operator's
 * answers: a unique index is 409 naming the field, a missing referenced user 404, a value a
 * check or length limit refuses 400. Store failures stay `USER_STORE_UNAVAILABLE`.
 */
export async function inAdminTransaction<T>(
  store: IdentityTransactions,
  work: (tables: IdentityTables) => Promise<T>,
  options?: { readonly rollback?: boolean },
): Promise<T> {
  try {
    return await store.run(work, options);
  } catch (error) {
    if (!(error instanceof StoreRefusal)) throw error;
    switch (error.kind) {
      case 'unique': {
        const field = (error.constraint && CONSTRAINT_FIELDS[error.constraint]) || undefined;
        throw new AdminError('CONFLICT', `${field ?? 'value'}: already in use`, field);
      }
      case 'reference':
        throw new AdminError('NOT_FOUND', 'the user does not exist');
      case 'invalid':
        throw new AdminError('INVALID', 'a value is out of range');
    }
  }
}
