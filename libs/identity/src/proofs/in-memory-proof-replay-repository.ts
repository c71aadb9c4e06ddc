import { InMemoryDatabase } from '../in-memory-database';
import { ProofReplayRepository } from './proof-replay-repository';

/** The DPoP proof replay table over the in-memory database, with the store's rules. */
export class InMemoryProofReplayRepository extends ProofReplayRepository {
  private readonly rows = new Map<string, Date>();

  constructor(readonly db: InMemoryDatabase = new InMemoryDatabase()) {
    super();
  }

  remember(jkt: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    this.db.checkUp();
    const key = `${jkt}\0${jti}`;
    const held = this.rows.get(key);
    if (held && held >= now) return Promise.resolve(false);
    this.rows.set(key, expiresAt);
    return Promise.resolve(true);
  }

  isHeld(jkt: string, jti: string, now: Date): Promise<boolean> {
    this.db.checkUp();
    const held = this.rows.get(`${jkt}\0${jti}`);
    return Promise.resolve(held !== undefined && held >= now);
  }

  purgeExpired(now: Date): Promise<number> {
    this.db.checkUp();
    let n = 0;
    for (const [key, at] of this.rows) if (at < now && this.rows.delete(key)) n++;
    return Promise.resolve(n);
  }
}
