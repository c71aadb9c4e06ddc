import { decideStatus } from '@resolver/policy';
import { type IdentityTables, IdentityTransactions, statusStateOf } from '@resolver/identity';
import { AdminError } from './admin-error';
import type { ImportRowEntry, ImportRowInput } from './admin-inputs';
import { inAdminTransaction } from './admin-transaction';

/** What became of one import row (1-based, in request order). */
export type ImportResult = {
  row: number;
  result: 'created' | 'updated' | 'rejected';
  id?: string;
  error?: string;
};

/**
 * Bulk import for operators: upserts users by (tenant, email), else (tenant, username), else
 * their first identity. A new user lives in the operator's namespace (`''`); an existing one is
 * matched in the operator's namespace first, else in the one issuer's namespace that holds the
 * value (a row matching users of several issuers is refused: it cannot say which). The import
 * is a writer of its own for the status (see `decideStatus`): it never lifts a lock or another
 * writer's deactivation. Each row is its own transaction, so a bad row is reported and the others
 * still land. A dry run rolls every row's transaction back: the answer is what a real run would
 * do, every check of the store (conflicts included) made, nothing written.
 */
export class UserImport {
  constructor(private readonly store: IdentityTransactions) {}

  async import(
    rows: readonly ImportRowEntry[],
    options: { readonly dryRun: boolean },
  ): Promise<ImportResult[]> {
    const results: ImportResult[] = [];
    for (const [i, entry] of rows.entries()) {
      const row = i + 1;
      if (!entry.ok) {
        results.push({ row, result: 'rejected', error: entry.error });
        continue;
      }
      try {
        const outcome = await inAdminTransaction(
          this.store,
          (tables) => importRow(tables, entry.input),
          { rollback: options.dryRun },
        );
        results.push({ row, ...outcome });
      } catch (error) {
        if (!(error instanceof AdminError)) throw error;
        results.push({ row, result: 'rejected', error: error.message });
      }
    }
    return results;
  }
}

async function importRow(
  { users, identities }: IdentityTables,
  input: ImportRowInput,
): Promise<{ result: 'created' | 'updated'; id: string }> {
  const { identities: links, status, ...fields } = input;
  const existing = await findExisting({ users, identities }, input);
  let id: string;
  let result: 'created' | 'updated';
  if (existing) {
    // Read locked: the status is decided on the row as it stands.
    const current = status && (await users.findById(existing, { lock: true }));
    await users.merge(existing, {
      ...fields,
      ...(status && {
        status: decideStatus(current ? statusStateOf(current) : null, 'import', status),
      }),
    });
    [id, result] = [existing, 'updated'];
  } else {
    const user = await users.insert({
      ...fields,
      namespace: '',
      status: decideStatus(null, 'import', status ?? 'active'),
      provenance: 'import',
    });
    [id, result] = [user.id, 'created'];
  }
  for (const link of links) await identities.insertIfAbsent(id, link);
  return { result, id };
}

/** The user a row updates: the live one with its email, else its username, else its first link. */
async function findExisting(
  { users, identities }: IdentityTables,
  input: ImportRowInput,
): Promise<string | null> {
  const field = input.email ? 'email' : input.username ? 'username' : undefined;
  if (field) {
    const by =
      field === 'email' ? { email: input.email as string } : { username: input.username as string };
    const [first, second] = await users.lockLive(input.tenant, by);
    if (!first || first.namespace === '' || !second) return first?.id ?? null;
    throw new AdminError(
      'CONFLICT',
      `${field}: held by users of several issuers' namespaces in this tenant, so the row cannot say which to update; update them by id instead`,
      field,
    );
  }
  const first = input.identities[0];
  return first ? identities.findUserId(first) : null;
}
