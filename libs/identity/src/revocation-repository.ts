import type { DataSource } from 'typeorm';
import { withStoreRetry } from './store-errors';

/** A revoked token: the `jti` deny-list entry. */
export interface RevokedToken {
  readonly issuer: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

/** The `revoked_tokens` table. Store failures are USER_STORE_UNAVAILABLE (bounded retry). */
export abstract class RevocationRepository {
  /** Unexpired revocations (loaded into memory at start and after every listener reset). */
  abstract listActive(now: Date): Promise<RevokedToken[]>;
  abstract isRevoked(issuer: string, jti: string): Promise<boolean>;
  /** Idempotent: revoking twice keeps the later expiry. */
  abstract revoke(token: RevokedToken): Promise<void>;
  /** Deletes rows whose token would have expired anyway; returns how many. */
  abstract purgeExpired(now: Date): Promise<number>;
}

export class TypeOrmRevocationRepository extends RevocationRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  async listActive(now: Date): Promise<RevokedToken[]> {
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<{ issuer: string; jti: string; expires_at: Date }[]>(
          'SELECT issuer, jti, expires_at FROM revoked_tokens WHERE expires_at > $1',
          [now],
        ),
      this.retry,
    );
    return rows.map((r) => ({ issuer: r.issuer, jti: r.jti, expiresAt: r.expires_at }));
  }

  async isRevoked(issuer: string, jti: string): Promise<boolean> {
    const rows = await withStoreRetry(
      () =>
        this.dataSource.query<unknown[]>(
          'SELECT 1 FROM revoked_tokens WHERE issuer = $1 AND jti = $2',
          [issuer, jti],
        ),
      this.retry,
    );
    return rows.length > 0;
  }

  async revoke(token: RevokedToken): Promise<void> {
    await withStoreRetry(
      () =>
        this.dataSource.query(
          `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
          [token.issuer, token.jti, token.expiresAt],
        ),
      this.retry,
    );
  }

  async purgeExpired(now: Date): Promise<number> {
    const [, count] = await withStoreRetry(
      () =>
        this.dataSource.query<[unknown[], number]>(
          'DELETE FROM revoked_tokens WHERE expires_at <= $1',
          [now],
        ),
      this.retry,
    );
    return typeof count === 'number' ? count : 0;
  }
}
