import { hostileWorld, itRefusesEach } from '../../support/hostile-world';
import { headerAndShapeCases } from './header-and-shape.cases';

/** Hostile tokens (see test/support/hostile-world.ts): header extensions, size and shape. */
const world = hostileWorld('security_shape');

describe('hostile tokens: header extensions, size and shape', () => {
  itRefusesEach(world, headerAndShapeCases(world));
});
