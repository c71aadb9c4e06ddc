import { type DataSource, LessThanOrEqual, MoreThan } from 'typeorm';
import { RevokedTokenEntity } from '../entities/revoked-token.entity';
import { withStoreRetry } from '../store-errors';

/** A revoked token: the `jti` deny-list entry. */
export interface RevokedToken {
  readonly issuer: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

/**
 * The `revoked_tokens` table. An abstract class so it can serve as the DI token; TypeORM stays
 * behind it. Store failures are USER_STORE_UNAVAILABLE (bounded retry).
 */
export abstract class RevocationRepository {
  /** Unexpired revocations (loaded into memory at start and after every listener reset). */
  abstract listActive(now: Date): Promise<RevokedToken[]>;
  /** True when this `jti` of this issuer is on the deny-list (expired rows included until purged). */
  abstract isRevoked(issuer: string, jti: string): Promise<boolean>;
  /** Idempotent: revoking twice keeps the later expiry. */
  abstract revoke(token: RevokedToken): Promise<void>;
  /** Deletes rows whose token would have expired anyway; returns how many. */
  abstract purgeExpired(now: Date): Promise<number>;
}

/**
 * {@link RevocationRepository} through TypeORM's `RevokedTokenEntity`. Every write of
 * `revoked_tokens` (the admin's revoke included) is here.
 */
export class TypeOrmRevocationRepository extends RevocationRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  private get repository() {
    return this.dataSource.getRepository(RevokedTokenEntity);
  }

  async listActive(now: Date): Promise<RevokedToken[]> {
    const rows = await withStoreRetry(
      () =>
        this.repository.find({
          select: { issuer: true, jti: true, expiresAt: true },
          where: { expiresAt: MoreThan(now) },
        }),
      this.retry,
    );
    return rows.map((r) => ({ issuer: r.issuer, jti: r.jti, expiresAt: r.expiresAt }));
  }

  isRevoked(issuer: string, jti: string): Promise<boolean> {
    return withStoreRetry(() => this.repository.existsBy({ issuer, jti }), this.retry);
  }

  async revoke(token: RevokedToken): Promise<void> {
    await withStoreRetry(
      () =>
        // The one raw statement here: TypeORM's upsert can only overwrite, and a second revoke
        // must never shorten the first one's protection.
        this.repository.query(
          `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
          [token.issuer, token.jti, token.expiresAt],
        ),
      this.retry,
    );
  }

  async purgeExpired(now: Date): Promise<number> {
    const result = await withStoreRetry(
      () => this.repository.delete({ expiresAt: LessThanOrEqual(now) }),
      this.retry,
    );
    return result.affected ?? 0;
  }
}
