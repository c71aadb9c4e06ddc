import { InMemoryDatabase } from '../in-memory-database';
import { type RevokedToken, RevocationRepository } from './revocation-repository';

/**
 * The `jti` deny-list over the in-memory database (revoking twice keeps the later expiry, as the
 * store does).
 */
export class InMemoryRevocationRepository extends RevocationRepository {
  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {
    super();
  }

  private get rows(): Map<string, RevokedToken> {
    return this.db.tables.revoked;
  }

  listActive(now: Date): Promise<RevokedToken[]> {
    this.db.checkUp();
    return Promise.resolve([...this.rows.values()].filter((r) => r.expiresAt > now));
  }
  isRevoked(issuer: string, jti: string): Promise<boolean> {
    this.db.checkUp();
    return Promise.resolve(this.rows.has(`${issuer}\0${jti}`));
  }
  revoke(token: RevokedToken): Promise<void> {
    this.db.checkUp();
    const key = `${token.issuer}\0${token.jti}`;
    const held = this.rows.get(key);
    if (!held || held.expiresAt < token.expiresAt) this.rows.set(key, { ...token });
    return Promise.resolve();
  }
  purgeExpired(now: Date): Promise<number> {
    this.db.checkUp();
    let n = 0;
    for (const [key, r] of this.rows) if (r.expiresAt <= now && this.rows.delete(key)) n++;
    return Promise.resolve(n);
  }
}
