import type { DataSource, EntityManager } from 'typeorm';
import { withStoreRetry } from '../store-errors';

/**
 * The `ssf_received_sets` table: each Security Event Token (SET) a transmitter sent, by its
 * `jti`, so a replay is acknowledged and never applied twice, on any replica. An abstract class
 * so it can serve as the DI token. Store failures are USER_STORE_UNAVAILABLE.
 */
export abstract class ReceivedSetRepository {
  /** Whether this SET was processed (a diagnosis or a replay check before any work). */
  abstract isHeld(transmitter: string, jti: string): Promise<boolean>;
  /** Deletes the SETs received before `before`; returns how many. */
  abstract purgeReceivedBefore(before: Date): Promise<number>;
}

/** The table inside a signal's transaction: the claim commits with the event's effect. */
export interface ReceivedSetTable {
  /**
   * Records the SET as processed: true the first time; false when it is held already (a
   * replay). A concurrent claim of the same SET waits for the first to commit or roll back.
   */
  claim(transmitter: string, jti: string): Promise<boolean>;
}

/** {@link ReceivedSetRepository} on Postgres. */
export class TypeOrmReceivedSetRepository extends ReceivedSetRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async isHeld(transmitter: string, jti: string): Promise<boolean> {
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<unknown[]>(
          `SELECT 1 FROM ssf_received_sets WHERE transmitter = $1 AND jti = $2`,
          [transmitter, jti],
        ),
      this.retry,
    );
    return rows.length > 0;
  }

  async purgeReceivedBefore(before: Date): Promise<number> {
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<unknown[]>(
          `DELETE FROM ssf_received_sets WHERE received_at < $1 RETURNING 1`,
          [before],
        ),
      this.retry,
    );
    return rows.length;
  }
}

/** {@link ReceivedSetTable} on one transaction's connection. */
export class TypeOrmReceivedSetTable implements ReceivedSetTable {
  constructor(private readonly m: EntityManager) {}

  async claim(transmitter: string, jti: string): Promise<boolean> {
    const rows = await this.m.query<unknown[]>(
      `INSERT INTO ssf_received_sets (transmitter, jti) VALUES ($1, $2)
       ON CONFLICT (transmitter, jti) DO NOTHING RETURNING 1`,
      [transmitter, jti],
    );
    return rows.length === 1;
  }
}
