import { type IdentityTables, IdentityTransactions, StoreRefusal } from '@resolver/identity';
import { AdminError } from './admin-error';

/**
 * Which admin field each unique index an admin write can meet protects, for 409 messages (a
 * spec holds it to what the migrations create). An operator's user keeps its email and username
 * in the whole tenant, so it conflicts with a live user of any namespace that holds them.
 */
export const ADMIN_CONSTRAINT_FIELDS: Readonly<Record<string, string>> = {
  users_namespace_email_live_key: 'email',
  users_namespace_username_live_key: 'username',
  users_operator_email_key: 'email',
  users_operator_username_key: 'username',
  external_identities_key: 'identities',
  users_pkey: 'id',
  external_identities_pkey: 'id',
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
        const field = (error.constraint && ADMIN_CONSTRAINT_FIELDS[error.constraint]) || undefined;
        throw new AdminError('CONFLICT', `${field ?? 'value'}: already in use`, field);
      }
      case 'reference':
        throw new AdminError('NOT_FOUND', 'the user does not exist');
      case 'invalid':
        throw new AdminError('INVALID', 'a value is out of range');
    }
  }
}
