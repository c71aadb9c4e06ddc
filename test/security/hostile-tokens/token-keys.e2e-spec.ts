import { hostileWorld, itRefusesEach } from '../../support/hostile-world';
import { tokenKeyCases } from './token-keys.cases';

/** Hostile tokens (see test/support/hostile-world.ts): keys the token names, kid injection. */
const world = hostileWorld('security_keys');

describe('hostile tokens: token-supplied keys, kid injection', () => {
  itRefusesEach(world, tokenKeyCases(world));

  it('never contacted the attacker: jku, x5u and URL-shaped kids are not fetched', async () => {
    const { attacker } = world;
    expect(attacker.requests('/jwks/evil')).toBe(0);
    expect(attacker.requests('/x5u/evil.pem')).toBe(0);
    expect(attacker.totalRequests()).toBe(0);
    // The counter works: a direct request is counted.
    await fetch(`${attacker.base}/jwks/evil`);
    expect(attacker.requests('/jwks/evil')).toBe(1);
  });

  it('the users table survived the SQL-shaped kids', async () => {
    const { rows } = await world.db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
  });
});
