import type { DataSource } from 'typeorm';
import { withStoreRetry } from '../store-errors';

/**
 * The `dpop_proofs` table: each DPoP proof `(jkt, jti)` is accepted once, on any replica, while
 * its window lasts. An abstract class so it can serve as the DI token. Store failures are
 * USER_STORE_UNAVAILABLE (the same database): the proof is then refused, never accepted
 * unchecked.
 */
export abstract class ProofReplayRepository {
  /**
   * Records the proof until `expiresAt`: true when this is its first use, false when it is held
   * and unexpired (a replay). One statement; a row whose window closed is taken over.
   */
  abstract remember(
    jkt: string,
    jti: string,
    expiresAt: Date,
    now: Date,
    deadlineAt?: number,
  ): Promise<boolean>;
  /** Whether the proof is held and unexpired (a diagnosis asks; nothing is written). */
  abstract isHeld(jkt: string, jti: string, now: Date): Promise<boolean>;
  /** Deletes the proofs whose window closed; returns how many. */
  abstract purgeExpired(now: Date): Promise<number>;
}

/** {@link ProofReplayRepository} on Postgres: one `INSERT ... ON CONFLICT` per proof. */
export class TypeOrmProofReplayRepository extends ProofReplayRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async remember(
    jkt: string,
    jti: string,
    expiresAt: Date,
    now: Date,
    deadlineAt?: number,
  ): Promise<boolean> {
    // 1 row: inserted, or an expired row taken over; 0 rows: held, a replay. The conflict is
    // decided on the primary key, so two replicas racing on one proof get one row each way.
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<unknown[]>(
          `INSERT INTO dpop_proofs (jkt, jti, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (jkt, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
             WHERE dpop_proofs.expires_at < $4
           RETURNING 1`,
          [jkt, jti, expiresAt, now],
        ),
      this.retry,
      deadlineAt,
    );
    return rows.length === 1;
  }

  async isHeld(jkt: string, jti: string, now: Date): Promise<boolean> {
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<unknown[]>(
          `SELECT 1 FROM dpop_proofs WHERE jkt = $1 AND jti = $2 AND expires_at >= $3`,
          [jkt, jti, now],
        ),
      this.retry,
    );
    return rows.length > 0;
  }

  async purgeExpired(now: Date): Promise<number> {
    // A SELECT around the DELETE: TypeORM answers a bare DELETE with [rows, count], not rows,
    // so `rows.length` of a bare DELETE … RETURNING was always 2 whatever it deleted.
    const [row] = await withStoreRetry(
      () =>
        this.dataSource.query<{ n: number }[]>(
          `WITH purged AS (DELETE FROM dpop_proofs WHERE expires_at < $1 RETURNING 1)
           SELECT count(*)::int AS n FROM purged`,
          [now],
        ),
      this.retry,
    );
    return row?.n ?? 0;
  }
}
