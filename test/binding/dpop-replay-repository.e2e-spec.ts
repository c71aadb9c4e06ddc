import type { DataSource } from 'typeorm';
import { TypeOrmProofReplayRepository } from '../../libs/identity/src';
import { migratedDataSource } from '../support/database';

/**
 * The DPoP replay table's one repository on real Postgres: a proof is new once, a replay while
 * its window lasts, taken over after it; the purge deletes exactly the closed windows and says
 * how many (TypeORM answers a bare DELETE with [rows, count], which once made it say 2 always).
 */
describe('ProofReplayRepository (real Postgres)', () => {
  let ds: DataSource;
  let proofs: TypeOrmProofReplayRepository;
  const t0 = new Date('2026-12-07T12:00:00Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

  beforeAll(async () => {
    ({ ds } = await migratedDataSource('dpop_replay_repo', 2));
    proofs = new TypeOrmProofReplayRepository(ds, { attempts: 1, backoffMs: 10 });
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('a proof is new once, a replay while held, and new again after its window', async () => {
    expect(await proofs.remember('jkt-a', 'jti-1', at(60), t0)).toBe(true);
    expect(await proofs.remember('jkt-a', 'jti-1', at(60), at(30))).toBe(false);
    expect(await proofs.isHeld('jkt-a', 'jti-1', at(30))).toBe(true);
    // Another key's proof with the same jti is another proof.
    expect(await proofs.remember('jkt-b', 'jti-1', at(60), at(30))).toBe(true);
    expect(await proofs.isHeld('jkt-a', 'jti-1', at(61))).toBe(false);
    expect(await proofs.remember('jkt-a', 'jti-1', at(200), at(61))).toBe(true);
  });

  it('purges exactly the proofs whose window closed, and counts them', async () => {
    await ds.query(`DELETE FROM dpop_proofs`);
    for (let i = 0; i < 5; i++) await proofs.remember('jkt-p', `old-${i}`, at(10), t0);
    for (let i = 0; i < 3; i++) await proofs.remember('jkt-p', `new-${i}`, at(100), t0);
    expect(await proofs.purgeExpired(at(50))).toBe(5);
    expect(await proofs.purgeExpired(at(50))).toBe(0);
    const left = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM dpop_proofs`);
    expect(left).toEqual([{ n: 3 }]);
    expect(await proofs.isHeld('jkt-p', 'new-0', at(50))).toBe(true);
  });
});
