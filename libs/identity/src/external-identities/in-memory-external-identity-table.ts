/* eslint-disable @typescript-eslint/require-await -- an in-memory fake of an async interface: nothing to await */
import { type InMemoryDatabase, linkKey, putLink, type Tables } from '../in-memory-database';
import { StoreRefusal } from '../store-errors';
import type {
  ExternalIdentity,
  ExternalIdentityTable,
  IdentityKey,
} from './external-identity-table';

/** The `external_identities` table inside one in-memory transaction (see InMemoryIdentityStore). */
export class InMemoryExternalIdentityTable implements ExternalIdentityTable {
  constructor(
    private readonly t: Tables,
    private readonly db: InMemoryDatabase,
  ) {}

  async insert(userId: string, key: IdentityKey): Promise<ExternalIdentity> {
    if (!this.t.users.has(userId))
      throw new StoreRefusal('reference', 'external_identities_user_id_fkey');
    if ((await this.findUserId(key)) !== null)
      throw new StoreRefusal('unique', 'external_identities_key');
    const { userId: _, ...shown } = putLink(
      this.t,
      key.issuer,
      key.tenant,
      key.subject,
      userId,
      this.db.now(),
    );
    return shown;
  }

  async insertIfAbsent(userId: string, key: IdentityKey): Promise<boolean> {
    if ((await this.findUserId(key)) !== null) return false;
    await this.insert(userId, key);
    return true;
  }

  async listForUser(userId: string): Promise<ExternalIdentity[]> {
    return [...this.t.links.values()]
      .filter((i) => i.userId === userId)
      .map(({ userId: _, ...shown }) => shown);
  }

  async delete(userId: string, identityId: string): Promise<boolean> {
    for (const [k, link] of this.t.links)
      if (link.id === identityId && link.userId === userId) return this.t.links.delete(k);
    return false;
  }

  async findUserId(key: IdentityKey): Promise<string | null> {
    return this.t.links.get(linkKey(key.issuer, key.tenant, key.subject))?.userId ?? null;
  }
}
