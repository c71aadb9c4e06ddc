import type { DataSource } from 'typeorm';
import { withStoreRetry } from '../store-errors';
import { type ScimProvenance, ScimProvenanceRepository } from './scim-store';
import { UUID } from '@resolver/policy';

/** Diagnose's view of a user's SCIM history (deleted rows included). */
export class TypeOrmScimProvenanceRepository extends ScimProvenanceRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async find(userId: string): Promise<ScimProvenance | null> {
    if (!UUID.test(userId)) return null;
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<
          {
            client_id: string;
            created_at: Date;
            deactivated_at: Date | null;
            deleted_at: Date | null;
          }[]
        >(
          'SELECT client_id, created_at, deactivated_at, deleted_at FROM scim_users WHERE user_id = $1',
          [userId],
        ),
      this.retry,
    );
    const r = rows[0];
    return r
      ? {
          clientId: r.client_id,
          provisionedAt: r.created_at,
          deactivatedAt: r.deactivated_at,
          deletedAt: r.deleted_at,
        }
      : null;
  }
}
