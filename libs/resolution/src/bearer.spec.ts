import type { ResolutionError } from '@resolver/reasons';
import { extractToken } from './bearer';

const reasonOf = (field: unknown, header?: string) => {
  try {
    return extractToken(field, header, 100);
  } catch (error) {
    return (error as ResolutionError).reason;
  }
};

describe('extractToken', () => {
  it.each([
    [undefined, 'Bearer abc', 'abc'],
    [undefined, 'bearer   abc  ', 'abc'],
    [undefined, 'BEARER abc', 'abc'],
    ['  tok ', 'Bearer other', 'tok'],
    ['', 'Bearer abc', 'abc'],
    [undefined, undefined, 'TOKEN_MISSING'],
    [undefined, '', 'TOKEN_MISSING'],
    [undefined, 'Basic dXNlcjpw', 'TOKEN_MISSING'],
    [undefined, 'Bearer', 'TOKEN_MISSING'],
    [undefined, 'Bearertoken', 'TOKEN_MISSING'],
    [undefined, 'Bearer a b', 'TOKEN_MALFORMED'],
    [undefined, '\tBearer\t\nabc \r\n', 'abc'],
    [undefined, 'Bearer    ', 'TOKEN_MISSING'],
    [undefined, 'Bear abc', 'TOKEN_MISSING'],
    [undefined, 'Bearer\u00a0abc', 'abc'],
    [undefined, 'Bearer a\u00a0b', 'TOKEN_MALFORMED'],
    ['   ', undefined, 'TOKEN_MISSING'],
    [42, undefined, 'TOKEN_MALFORMED'],
    [{ token: 'x' }, undefined, 'TOKEN_MALFORMED'],
    ['x'.repeat(101), undefined, 'TOKEN_TOO_LARGE'],
    [undefined, `Bearer ${'x'.repeat(101)}`, 'TOKEN_TOO_LARGE'],
    [undefined, `Bearer ${'x'.repeat(10_000)}`, 'TOKEN_TOO_LARGE'],
  ])('field %j, header %j -> %s', (field, header, expected) => {
    expect(reasonOf(field, header)).toBe(expected);
  });
});
