import { ScimError } from '@resolver/provisioning';
import { scimBaseUrl } from './scim-base-url';

const req = (headers: Record<string, string | string[] | undefined>, protocol = 'http') => ({
  headers,
  protocol,
});

describe('scimBaseUrl', () => {
  it('is the configured public base URL, whatever the request says', () => {
    expect(
      scimBaseUrl(
        'https://resolver.example.com/scim/v2',
        req({ host: 'evil.example', 'x-forwarded-proto': 'javascript' }),
      ),
    ).toBe('https://resolver.example.com/scim/v2');
  });

  it('without one: a host[:port] Host, and X-Forwarded-Proto only when exactly http or https', () => {
    expect(scimBaseUrl(undefined, req({ host: 'resolver.test:8080' }))).toBe(
      'http://resolver.test:8080/scim/v2',
    );
    expect(scimBaseUrl(undefined, req({ host: '[::1]:8080', 'x-forwarded-proto': 'https' }))).toBe(
      'https://[::1]:8080/scim/v2',
    );
    expect(scimBaseUrl(undefined, req({ host: '10.0.0.1' }, 'https'))).toBe(
      'https://10.0.0.1/scim/v2',
    );
    // Anything else in X-Forwarded-Proto is ignored: the connection's own scheme.
    for (const proto of [
      'javascript',
      'https, http',
      'HTTPS',
      'https ',
      'ftp',
      '',
      'data:text/html,x',
    ])
      expect(scimBaseUrl(undefined, req({ host: 'r.test', 'x-forwarded-proto': proto }))).toBe(
        'http://r.test/scim/v2',
      );
    expect(
      scimBaseUrl(undefined, req({ host: 'r.test', 'x-forwarded-proto': ['https', 'https'] })),
    ).toBe('http://r.test/scim/v2');
  });

  it.each([
    'evil.example/x',
    'javascript://evil.example',
    'user@evil.example',
    'evil.example:99999',
    'evil.example:80:80',
    'evil.example\r\nx: y',
    'evil example',
    '',
    '-evil.example',
    'evil.example#x',
    '[::1',
    'évil.example',
  ])('refuses to reflect Host %j (400 invalidValue naming Host)', (host) => {
    let caught: unknown;
    try {
      scimBaseUrl(undefined, req({ host }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect(caught).toMatchObject({ code: 'invalid', scimType: 'invalidValue' });
    expect((caught as ScimError).detail).toMatch(/^Host: /);
  });

  it('refuses a request with no Host at all', () => {
    expect(() => scimBaseUrl(undefined, req({}))).toThrow(ScimError);
  });
});
