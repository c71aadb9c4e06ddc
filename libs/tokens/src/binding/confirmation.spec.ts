import { confirmationOf } from './confirmation';
import { htuForm, requestUri } from './request-uri';

const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';

describe('cnf (RFC 7800) as the binding step reads it', () => {
  it('reads jkt and x5t#S256 as own members; no cnf is a bearer token', () => {
    expect(confirmationOf({ sub: 'a' })).toBeUndefined();
    expect(confirmationOf({ cnf: { jkt: JKT } })).toEqual({
      jkt: JKT,
      x5tS256: undefined,
      unchecked: [],
      invalid: undefined,
    });
    expect(confirmationOf({ cnf: { 'x5t#S256': JKT, kid: 'k' } })).toMatchObject({
      x5tS256: JKT,
      unchecked: ['kid'],
    });
    const inherited = Object.create({ jkt: JKT }) as object;
    expect(confirmationOf({ cnf: inherited })).toMatchObject({ jkt: undefined, unchecked: [] });
  });

  it('names what is malformed instead of throwing', () => {
    expect(confirmationOf({ cnf: 'bound' })?.invalid).toBe('cnf must be a JSON object');
    expect(confirmationOf({ cnf: [JKT] })?.invalid).toBe('cnf must be a JSON object');
    expect(confirmationOf({ cnf: null })?.invalid).toBe('cnf must be a JSON object');
    expect(confirmationOf({ cnf: { jkt: 42 } })?.invalid).toMatch(/^cnf\.jkt/);
    expect(confirmationOf({ cnf: { jkt: 'short' } })?.invalid).toMatch(/^cnf\.jkt/);
    expect(confirmationOf({ cnf: { 'x5t#S256': `${JKT}=` } })?.invalid).toMatch(/x5t#S256/);
  });
});

describe('htu and the request URI (RFC 9449 §4.3, RFC 3986 §6.2.2-6.2.3)', () => {
  it('normalises scheme, host, default port, dot segments and percent-encoding case; drops query and fragment', () => {
    expect(htuForm('HTTPS://Api.Example.com:443/a/./b/../c?q=1#f')).toBe(
      'https://api.example.com/a/c',
    );
    expect(htuForm('http://api.example.com:80')).toBe('http://api.example.com/');
    expect(htuForm('https://api.example.com/%7euser')).toBe('https://api.example.com/%7Euser');
    expect(htuForm('https://api.example.com:8443/x')).toBe('https://api.example.com:8443/x');
  });

  it('refuses what is not an absolute http(s) URI, or carries user information', () => {
    for (const uri of [
      '/orders',
      'ftp://x/y',
      'https://user:pw@api.example.com/',
      'x'.repeat(9000),
      // What the URL parser would silently drop, so that two different strings read alike.
      'https://api.example.com/orders/42\u0000',
      ' https://api.example.com/orders/42',
      'https://api.example.com/orders/4\n2',
      'https://api.example.com/orders/4\t2',
      'https://api.example.com/orders/42\u007f',
    ])
      expect(htuForm(uri)).toBeUndefined();
  });

  it('builds the URI from the parts a gateway forwards, and nothing from a part it lacks', () => {
    expect(requestUri('https', 'api.example.com', '/orders?id=1')).toBe(
      'https://api.example.com/orders?id=1',
    );
    expect(requestUri('HTTPS', 'api.example.com:8443', '/')).toBe('https://api.example.com:8443/');
    expect(requestUri(undefined, 'h', '/')).toBeUndefined();
    expect(requestUri('https', 'h', 'no-slash')).toBeUndefined();
    expect(requestUri('https', 'evil.test/x@api.example.com', '/')).toBeUndefined();
    expect(requestUri('gopher', 'h', '/')).toBeUndefined();
  });
});
