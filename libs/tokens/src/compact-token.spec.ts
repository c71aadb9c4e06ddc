import { ResolutionError } from '@resolver/reasons';
import fc from 'fast-check';
import {
  checkJsonStructure,
  decodeCompactToken,
  isCanonicalBase64url,
  MAX_JSON_DEPTH,
  own,
  ownData,
} from './compact-token';

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
    ['empty header', `.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['non-base64url characters', `${seg({ alg: 'RS256' })}.${seg({})}+/.x`, 'TOKEN_MALFORMED'],
    ['padding', `${seg({ alg: 'RS256' })}=.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['header not JSON', `${seg('{nope')}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['payload an array', `${seg({ alg: 'RS256' })}.${seg([1])}.c2ln`, 'TOKEN_MALFORMED'],
    ['payload null', `${seg({ alg: 'RS256' })}.${seg('null')}.c2ln`, 'TOKEN_MALFORMED'],
    ['alg missing', `${seg({ typ: 'JWT' })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['alg not a string', `${seg({ alg: 1 })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['impossible base64 length', `${seg({ alg: 'RS256' })}.a.c2ln`, 'TOKEN_MALFORMED'],
    [
      'duplicate claim',
      `${seg({ alg: 'RS256' })}.${seg('{"sub":"a","sub":"b"}')}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'duplicate claim spelled with an escape',
      `${seg({ alg: 'RS256' })}.${seg('{"sub":"a","\\u0073ub":"b"}')}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'duplicate header parameter',
      `${seg('{"alg":"RS256","alg":"none"}')}.${seg({})}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'duplicate member in a nested object',
      `${seg({ alg: 'RS256' })}.${seg('{"a":{"r":1,"r":2}}')}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'deeply nested payload',
      `${seg({ alg: 'RS256' })}.${seg(`{"a":${'['.repeat(500)}${']'.repeat(500)}}`)}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'invalid UTF-8',
      `${seg({ alg: 'RS256' })}.${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.c2ln`,
      'TOKEN_MALFORMED',
    ],
    [
      'non-canonical signature (unused bits set)',
      `${seg({ alg: 'RS256' })}.${seg({})}.AB`,
      'TOKEN_MALFORMED',
    ],
    ['crit', `${seg({ alg: 'RS256', crit: ['exp'] })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['b64: false', `${seg({ alg: 'RS256', b64: false })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['zip', `${seg({ alg: 'RS256', zip: 'DEF' })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
    ['nested JWT', `${seg({ alg: 'RS256', cty: 'JWT' })}.${seg({})}.c2ln`, 'TOKEN_MALFORMED'],
  ])('%s is %s', (_name, token, reason) => {
    expect(reasonOf(token)).toBe(reason);
  });

  it('accepts nesting up to the limit, the same names in different objects, and strings with quotes', () => {
    const nested = `{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(reasonOf(`${seg({ alg: 'RS256' })}.${seg(nested)}.c2ln`)).toBe('OK');
    expect(reasonOf(`${seg({ alg: 'RS256' })}.${seg('{"a":{"r":1},"b":{"r":2}}')}.c2ln`)).toBe(
      'OK',
    );
    expect(reasonOf(`${seg({ alg: 'RS256' })}.${seg({ a: 'x\\",\\"a', b: '{[' })}.c2ln`)).toBe(
      'OK',
    );
    expect(reasonOf(`${seg({ alg: 'RS256', cty: 'text/plain' })}.${seg({})}.c2ln`)).toBe('OK');
  });

  it('bounds the size before parsing', () => {
    expect(reasonOf(good, good.length)).toBe('OK');
    expect(reasonOf(good, good.length - 1)).toBe('TOKEN_TOO_LARGE');
    expect(reasonOf(`${seg({ alg: 'RS256' })}.${seg({ s: 'é'.repeat(40) })}.c2ln`, 100)).toBe(
      'TOKEN_TOO_LARGE',
    );
  });

  it('decodes header and claims into objects without a prototype, at every depth', () => {
    const payload = '{"__proto__":{"tid":"acme"},"cnf":{"jkt":"x"},"list":[{"a":1}]}';
    const decoded = decodeCompactToken(`${seg({ alg: 'RS256' })}.${seg(payload)}.c2ln`, 8192);
    for (const object of [
      decoded.header,
      decoded.payload,
      decoded.payload.cnf as object,
      (decoded.payload.list as object[])[0] as object,
    ])
      expect(Object.getPrototypeOf(object)).toBeNull();
    // `__proto__` is a claim like any other: own data, never the object's prototype.
    expect(Object.hasOwn(decoded.payload, '__proto__')).toBe(true);
    expect((decoded.payload as Record<string, unknown>).tid).toBeUndefined();
    expect(own(decoded.payload, 'cnf')).toEqual(Object.assign(Object.create(null), { jkt: 'x' }));
    expect(own({}, 'toString')).toBeUndefined();
  });
});

/** ownData as it was: a copy of parsed JSON, every object built key by key without a prototype. */
function copiedOwnData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copiedOwnData);
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value))
    out[key] = copiedOwnData((value as Record<string, unknown>)[key]);
  return out;
}

describe('ownData: made in place, the objects the copy gave', () => {
  /** Every object's prototype at every depth, in order: null for objects, arrays their own. */
  const prototypes = (v: unknown): unknown[] =>
    typeof v !== 'object' || v === null
      ? []
      : [
          Object.getPrototypeOf(v),
          ...(Array.isArray(v) ? v : Object.values(v)).flatMap(prototypes),
        ];

  it('gives the objects the copy gave, prototypes included, for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
        const text = JSON.stringify(json);
        const made = ownData(JSON.parse(text));
        const copied = copiedOwnData(JSON.parse(text));
        expect(made).toEqual(copied);
        expect(prototypes(made)).toEqual(prototypes(copied));
        expect(JSON.stringify(made)).toBe(text);
      }),
    );
    const polluted = ownData(JSON.parse('{"__proto__":{"tid":"acme"},"a":[{"__proto__":1}]}'));
    expect(Object.hasOwn(polluted as object, '__proto__')).toBe(true);
    expect((polluted as Record<string, unknown>).tid).toBeUndefined();
  });
});

describe('the canonical base64url check and the structure pass, against their definitions', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The definition: the segment is exactly what its bytes encode to. */
  const canonical = (segment: string) =>
    /^[A-Za-z0-9_-]*$/.test(segment) &&
    segment.length % 4 !== 1 &&
    Buffer.from(segment, 'base64url').toString('base64url') === segment;

  it('isCanonicalBase64url agrees with decoding and re-encoding, on any text', () => {
    const b64 = fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: 48 });
    const noisy = fc.string({
      unit: fc.constantFrom(...`${alphabet}=+/. \u00e9`.split('')),
      maxLength: 12,
    });
    for (const arb of [b64, noisy, fc.string({ maxLength: 12 })])
      fc.assert(
        fc.property(arb, (segment) => isCanonicalBase64url(segment) === canonical(segment)),
        { numRuns: 3_000 },
      );
    // Every encoding of real bytes is canonical; a changed last character usually is not.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) =>
        isCanonicalBase64url(Buffer.from(bytes).toString('base64url')),
      ),
    );
  });

  it('finds duplicate names, escaped or not, and refuses what JSON.parse refuses', () => {
    const outcome = (text: string) => {
      try {
        checkJsonStructure(text);
        JSON.parse(text);
        return 'ok';
      } catch (error) {
        return error instanceof ResolutionError ? error.message : 'json';
      }
    };
    expect(outcome('{"sub":"a","\\u0073ub":"b"}')).toMatch(/duplicate/);
    expect(outcome('{"sub":"a","sub":"b"}')).toMatch(/duplicate/);
    expect(outcome('{"a":{"x":1},"b":{"x":2}}')).toBe('ok');
    expect(outcome('{"a\\"b":1,"a\\u0022b":2}')).toMatch(/duplicate/);
    expect(outcome('{"a\u0001":1}')).toBe('json');
    // Any object JSON.stringify writes passes, with the same members JSON.parse reads.
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })),
        (o) => outcome(JSON.stringify(o)) === 'ok',
      ),
      { numRuns: 1_000 },
    );
  });
});
