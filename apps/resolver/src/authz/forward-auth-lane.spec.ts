import fc from 'fast-check';
import { takesLane } from './forward-auth-lane';

describe('takesLane: which requests the forward-auth lane may answer', () => {
  it('admits the two routes, with any query, for every route method, without a body', () => {
    for (const url of ['/v1/authz', '/v1/authz/', '/v1/authz/orders/42', '/v1/authz?x=1&y=2'])
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
        expect([method, url, takesLane(method, url, {})]).toEqual([method, url, true]);
    expect(takesLane('POST', '/v1/authz', { 'content-length': '0' })).toBe(true);
  });

  it('leaves to the route a body, other methods, and any target the router might read otherwise', () => {
    expect(takesLane('POST', '/v1/authz', { 'content-length': '7' })).toBe(false);
    expect(takesLane('POST', '/v1/authz', { 'transfer-encoding': 'chunked' })).toBe(false);
    for (const method of [undefined, 'TRACE', 'CONNECT', 'PROPFIND', 'get'])
      expect(takesLane(method, '/v1/authz', {})).toBe(false);
    for (const url of [
      '',
      '/',
      '/v1/authzx',
      '/v1/Authz',
      '//v1/authz',
      '/v1/authz%2F',
      '/v1/authz/%61',
      '/v1/authz/a b',
      '/v1/authz/caf\u00e9',
      '/v1/authz/\u0000',
      'http://example.test/v1/authz',
      '*',
    ])
      expect([url, takesLane('GET', url, {})]).toEqual([url, false]);
  });

  it('never admits a target with a byte outside printable ASCII or a percent sign (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (tail) => {
        const url = `/v1/authz/${tail}`;
        const odd = /[^\x21-\x7e]|%/.test(tail);
        return !odd || !takesLane('GET', url, {});
      }),
      { numRuns: 2_000 },
    );
  });
});
