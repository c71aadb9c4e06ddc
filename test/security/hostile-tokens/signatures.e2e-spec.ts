import { hostileWorld, itRefusesEach } from '../../support/hostile-world';
import { signatureCases } from './signature.cases';

/** Hostile tokens (see test/support/hostile-world.ts): forged, stripped and confused signatures. */
const world = hostileWorld('security_signatures');

describe('hostile tokens: alg none, key confusion, psychic signatures', () => {
  itRefusesEach(world, signatureCases(world));
});
