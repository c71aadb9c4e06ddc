import fc from 'fast-check';
import { routeOf } from './route';

describe('console: the route of the location hash', () => {
  it('names the pages, and decodes a user id', () => {
    expect(routeOf('')).toEqual({ page: 'overview' });
    expect(routeOf('#/diagnose')).toEqual({ page: 'diagnose' });
    expect(routeOf('#/users')).toEqual({ page: 'users' });
    expect(routeOf('#/users/a%2Fb')).toEqual({ page: 'user', id: 'a/b' });
  });

  it('survives any hash: malformed percent-encoding is kept as it stands (issue #22)', () => {
    expect(routeOf('#/users/%E0%A4%A')).toEqual({ page: 'user', id: '%E0%A4%A' });
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(() => routeOf(`#/users/${s}`)).not.toThrow();
        expect(() => routeOf(s)).not.toThrow();
      }),
      { numRuns: 2_000 },
    );
  });
});
