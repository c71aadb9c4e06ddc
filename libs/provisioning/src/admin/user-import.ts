import { type IdentityTables, IdentityTransactions } from '@resolver/identity';
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
 * their first identity. Each row is its own transaction, so a bad row is reported and the others
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
  const { identities: links, ...fields } = input;
  const existing = await findExisting({ users, identities }, input);
  let id: string;
  let result: 'created' | 'updated';
  if (existing) {
    await users.merge(existing, fields);
    [id, result] = [existing, 'updated'];
  } else {
    const user = await users.insert({
      ...fields,
      status: fields.status ?? 'active',
      provenance: 'import',
    });
    [id, result] = [user.id, 'created'];
  }
  for (const link of links) await identities.insertIfAbsent(id, link);
  return { result, id };
}

/** The user a row updates: the live one with its email, else its username, else its first link. */
function findExisting(
  { users, identities }: IdentityTables,
  input: ImportRowInput,
): Promise<string | null> {
  if (input.email) return users.lockLive(input.tenant, { email: input.email });
  if (input.username) return users.lockLive(input.tenant, { username: input.username });
  const first = input.identities[0];
  return first ? identities.findUserId(first) : Promise.resolve(null);
}
