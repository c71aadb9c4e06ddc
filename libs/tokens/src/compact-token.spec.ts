import { ResolutionError } from '@resolver/reasons';
import { decodeCompactToken } from './compact-token';

const seg = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const reasonOf = (token: string, max = 8192) => {
  try {
    decodeCompactToken(token, max);
    return 'OK';
  } catch (error) {
    return (error as ResolutionError).reason;
  }
};

describe('decodeCompactToken', () => {
  const good = `${seg({ alg: 'RS256' })}.${seg({ iss: 'x' })}.c2ln`;

  it('decodes header and payload without trusting them', () => {
    expect(decodeCompactToken(good, 8192)).toMatchObject({
      header: { alg: 'RS256' },
      payload: { iss: 'x' },
    });
  });

  it.each([
    ['two segments', 'a.b', 'TOKEN_MALFORMED'],
    ['JWE (five segments)', 'a.b.c.d.e', 'TOKEN_MALFORMED'],
    ['empty header', `.${seg({})}.x`, 'TOKEN_MALFORMED'],
    ['non-base64url characters', `${seg({ alg: 'RS256' })}.${seg({})}+/.x`, 'TOKEN_MALFORMED'],
    ['padding', `${seg({ alg: 'RS256' })}=.${seg({})}.x`, 'TOKEN_MALFORMED'],
    ['header not JSON', `${seg('{nope')}.${seg({})}.x`, 'TOKEN_MALFORMED'],
    ['payload an array', `${seg({ alg: 'RS256' })}.${seg([1])}.x`, 'TOKEN_MALFORMED'],
    ['payload null', `${seg({ alg: 'RS256' })}.${seg('null')}.x`, 'TOKEN_MALFORMED'],
    ['alg missing', `${seg({ typ: 'JWT' })}.${seg({})}.x`, 'TOKEN_MALFORMED'],
    ['alg not a string', `${seg({ alg: 1 })}.${seg({})}.x`, 'TOKEN_MALFORMED'],
    ['impossible base64 length', `${seg({ alg: 'RS256' })}.a.x`, 'TOKEN_MALFORMED'],
  ])('%s is %s', (_name, token, reason) => {
    expect(reasonOf(token)).toBe(reason);
  });

  it('bounds the size before parsing', () => {
    expect(reasonOf(good, good.length)).toBe('OK');
    expect(reasonOf(good, good.length - 1)).toBe('TOKEN_TOO_LARGE');
    expect(reasonOf(`${seg({ alg: 'RS256' })}.${seg({ s: 'é'.repeat(40) })}.x`, 100)).toBe(
      'TOKEN_TOO_LARGE',
    );
  });
});
