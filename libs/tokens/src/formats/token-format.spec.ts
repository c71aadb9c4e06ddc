import fc from 'fast-check';
import { isResolutionError } from '@resolver/reasons';
import { classifyTokenFormat } from './token-format';

function outcome(token: string): string {
  try {
    return classifyTokenFormat(token);
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return `${error.reason}: ${error.message}`;
  }
}

describe('the token format, by shape', () => {
  it.each([
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln', 'jws'],
    ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.', 'jws'],
    ['a.b.c', 'jws'],
    ['..', 'jws'],
    ['eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a.b.c.d', 'jwe'],
    ['eyJhbGciOiJFQ0RILUVTIn0..iv.ct.tag', 'jwe'],
    ['v4.public.eyJzdWIiOiJhIn0', 'paseto'],
    ['v4.public.eyJzdWIiOiJhIn0.Zm9vdGVy', 'paseto'],
    ['2YotnFZFEjr1zCsicMWpAA', 'opaque'],
    ['a.b', 'opaque'],
    ['a.b.c.d', 'opaque'],
    ['a.b.c.d.e.f', 'opaque'],
    ['a.b.c=', 'opaque'],
    ['a b.c.d', 'opaque'],
    ['', 'opaque'],
    ['v4', 'opaque'],
    ['v4.public', 'opaque'],
    ['V4.public.x', 'jws'], // three base64url segments; the decode step refuses it
  ])('%s is %s', (token, format) => {
    expect(outcome(token)).toBe(format);
  });

  it.each([
    ['v4.local.abc', 'v4.local'],
    ['v3.public.abc', 'v3.public'],
    ['v2.public.abc', 'v2.public'],
    ['v1.local.abc', 'v1.local'],
    ['v5.public.abc', 'v5.public'],
    ['v4.secret.abc', 'v4.secret'],
  ])('%s is refused, naming %s', (token, named) => {
    expect(outcome(token)).toBe(
      `TOKEN_MALFORMED: PASETO ${named} tokens are not accepted: only v4.public`,
    );
  });

  it('property: the answer depends only on the shape, and never throws anything but a refusal', () => {
    const b64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/);
    fc.assert(
      fc.property(fc.array(b64url, { minLength: 1, maxLength: 7 }), (segments) => {
        const token = segments.join('.');
        const got = outcome(token);
        if (token.startsWith('v4.public.')) return got === 'paseto';
        if (/^v\d{1,3}\.[a-z]{1,16}\./.test(token))
          return got.startsWith('TOKEN_MALFORMED: PASETO');
        const expected = segments.length === 3 ? 'jws' : segments.length === 5 ? 'jwe' : 'opaque';
        return got === expected;
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (token) => {
        const got = outcome(token);
        return (
          ['jws', 'jwe', 'paseto', 'opaque'].includes(got) || got.startsWith('TOKEN_MALFORMED')
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('a JWS or JWE header segment (base64url of "{") can never read as a PASETO header', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (header) => {
        const segment = Buffer.from(JSON.stringify(header)).toString('base64url');
        return outcome(`${segment}.e30.sig`) === 'jws';
      }),
    );
  });
});
