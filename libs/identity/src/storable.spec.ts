import fc from 'fast-check';
import { findUnstorable, MAX_INPUT_DEPTH, parseDateTime } from './storable';

describe('findUnstorable: what no writer may send to the store', () => {
  it('names the path of U+0000, lone surrogates, Infinity, prototype keys and hostile depth', () => {
    expect(findUnstorable({ a: 'ok', b: ['x', 'y\u0000'] })).toEqual({
      path: 'b[1]',
      problem: 'contains U+0000, which cannot be stored',
    });
    expect(findUnstorable({ name: { given: 'a\ud800' } })?.path).toBe('name.given');
    expect(findUnstorable(JSON.parse('{"n": 1e400}'))?.path).toBe('n');
    expect(findUnstorable(JSON.parse('{"x": {"__proto__": {"tid": "acme"}}}'))?.path).toBe(
      'x.__proto__',
    );
    expect(findUnstorable({ constructor: { prototype: {} } })?.path).toBe('constructor');
    expect(findUnstorable({ 'a\u0000b': 1 })?.problem).toContain('(the name)');
    expect(findUnstorable('\u0000', 'filter')).toEqual({
      path: 'filter',
      problem: 'contains U+0000, which cannot be stored',
    });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorable(deep)?.problem).toBe(`nests deeper than ${MAX_INPUT_DEPTH} levels`);
  });

  it('accepts what the store holds exactly as sent', () => {
    expect(findUnstorable({ a: 'Zoë 🙂 \u3000', b: [1, -2.5, null, true], c: {} })).toBeUndefined();
  });

  it('finds every embedded NUL and lone surrogate in arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom('\u0000', '\udc00'), (v, bad) => {
        // The first problem in document order: inside v when v has one, else the planted one.
        const inV = findUnstorable(v, 'v');
        const found = findUnstorable({ v, w: `x${bad}` });
        if (inV) expect(found).toEqual(inV);
        else expect(found?.path).toBe('w');
      }),
    );
  });
});

describe('parseDateTime: RFC 3339 within years 1 to 9999', () => {
  it.each([
    '2020-01-01T00:00:00Z',
    '2020-02-29T23:59:59.123+02:00',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
  ])('accepts %s', (value) => expect(parseDateTime(value)).toBeInstanceOf(Date));

  it.each([
    '2020',
    '0',
    '+275760-09-13T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '2021-02-29T00:00:00Z',
    '2020-01-01T24:00:00Z',
    '2020-01-01 00:00:00Z',
    '2020-01-01T00:00:00',
    '2020-01-01T00:00:00+24:00',
    'Tue, 01 Jan 2020 00:00:00 GMT',
  ])('refuses %s', (value) => expect(parseDateTime(value)).toBeUndefined());
});
