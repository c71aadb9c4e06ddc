import type { EntityManager } from 'typeorm';
import { ExternalIdentityEntity } from '../entities/external-identity.entity';
import type {
  ExternalIdentity,
  ExternalIdentityTable,
  IdentityKey,
} from './external-identity-table';

/**
 * {@link ExternalIdentityTable} through TypeORM's `ExternalIdentityEntity` on one transaction's
 * `EntityManager`. The JIT link, the admin and import links and SCIM's link all insert here.
 */
export class TypeOrmExternalIdentityTable implements ExternalIdentityTable {
  constructor(private readonly m: EntityManager) {}

  private get repository() {
    return this.m.getRepository(ExternalIdentityEntity);
  }

  async insert(userId: string, key: IdentityKey): Promise<ExternalIdentity> {
    const result = await this.insertQuery(userId, key).returning(['id', 'created_at']).execute();
    const [row] = result.raw as { id: string; created_at: Date }[];
    return { id: row?.id as string, ...pick(key), createdAt: row?.created_at as Date };
  }

  async insertIfAbsent(userId: string, key: IdentityKey): Promise<boolean> {
    const result = await this.insertQuery(userId, key).orIgnore().returning(['id']).execute();
    return (result.raw as unknown[]).length > 0;
  }

  async listForUser(userId: string): Promise<ExternalIdentity[]> {
    const rows = await this.repository.find({ where: { userId }, order: { createdAt: 'ASC' } });
    return rows.map((r) => ({
      id: r.id,
      issuer: r.issuer,
      tenant: r.tenant,
      subject: r.subject,
      createdAt: r.createdAt,
    }));
  }

  async delete(userId: string, identityId: string): Promise<boolean> {
    const result = await this.repository.delete({ id: identityId, userId });
    return (result.affected ?? 0) > 0;
  }

  async findUserId(key: IdentityKey): Promise<string | null> {
    const found = await this.repository.findOne({ select: { userId: true }, where: pick(key) });
    return found?.userId ?? null;
  }

  /**
   * The identity linked at `key`, row-locked until the end of the transaction, so that a
   * concurrent writer cannot re-point or remove it meanwhile; `null` if none.
   */
  async lockByKey(key: IdentityKey): Promise<{ id: string; userId: string } | null> {
    const found = await this.repository.findOne({
      select: { id: true, userId: true },
      where: pick(key),
      lock: { mode: 'pessimistic_write' },
    });
    return found ? { id: found.id, userId: found.userId } : null;
  }

  /** Points the identity at another user (the trigger announces both owners). */
  async repoint(identityId: string, userId: string): Promise<void> {
    await this.repository.update({ id: identityId }, { userId });
  }

  /**
   * Removes the user's other subjects of `key`'s issuer and tenant: a provisioner that owns the
   * user's subject in a scope (SCIM) keeps exactly one link there.
   */
  async deleteOthersInScope(userId: string, key: IdentityKey): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .delete()
      .where('user_id = :userId', { userId })
      .andWhere('issuer = :issuer AND tenant = :tenant AND subject <> :subject', {
        ...pick(key),
      })
      .execute();
  }

  private insertQuery(userId: string, key: IdentityKey) {
    return this.repository
      .createQueryBuilder()
      .insert()
      .values({ ...pick(key), userId });
  }
}

/** Only the key's own fields (callers may pass wider objects). */
function pick(key: IdentityKey): IdentityKey {
  return { issuer: key.issuer, tenant: key.tenant, subject: key.subject };
}
