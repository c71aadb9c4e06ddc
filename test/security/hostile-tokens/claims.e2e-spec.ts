import { hostileWorld, itRefusesEach } from '../../support/hostile-world';
import { claimCases } from './claims.cases';

/** Hostile tokens (see test/support/hostile-world.ts): claims, subjects, RFC 9068 and token age. */
const world = hostileWorld('security_claims');

describe('hostile tokens: claims, subjects, typ / token age', () => {
  itRefusesEach(world, claimCases(world));
});
