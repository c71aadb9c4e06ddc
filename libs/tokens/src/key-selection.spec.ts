import type { JWK } from 'jose';
import { selectKeys } from './key-selection';

const rsa = (kid?: string, extra: Partial<JWK> = {}): JWK => ({
  kty: 'RSA',
  n: 'n',
  e: 'AQAB',
  kid,
  ...extra,
});
const ec = (kid: string, crv: string): JWK => ({ kty: 'EC', crv, x: 'x', y: 'y', kid });

describe('selectKeys', () => {
  it('matches key type and curve to the algorithm', () => {
    const keys = [rsa('r'), ec('p256', 'P-256'), ec('p384', 'P-384')];
    expect(selectKeys(keys, 'RS256', undefined).map((k) => k.kid)).toEqual(['r']);
    expect(selectKeys(keys, 'ES256', undefined).map((k) => k.kid)).toEqual(['p256']);
    expect(selectKeys(keys, 'ES384', undefined).map((k) => k.kid)).toEqual(['p384']);
    expect(selectKeys(keys, 'HS256', undefined)).toEqual([]);
  });

  it('honours kid, alg, use and key_ops; kid-less keys match any kid, after exact matches', () => {
    const keys = [
      rsa(undefined),
      rsa('a'),
      rsa('b', { use: 'enc' }),
      rsa('a2', { alg: 'RS512' }),
      rsa('c', { key_ops: ['sign'] }),
    ];
    expect(selectKeys(keys, 'RS256', 'a').map((k) => k.kid)).toEqual(['a', undefined]);
    expect(selectKeys(keys, 'RS256', 'b').map((k) => k.kid)).toEqual([undefined]);
    expect(selectKeys(keys, 'RS256', 'zzz').map((k) => k.kid)).toEqual([undefined]);
    expect(selectKeys([rsa('only')], 'RS256', 'other')).toEqual([]);
  });
});
