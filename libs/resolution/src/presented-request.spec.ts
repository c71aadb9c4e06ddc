import { isResolutionError } from '@resolver/reasons';
import {
  presentedFromEnvoy,
  presentedFromFields,
  presentedFromForwardedHeaders,
} from './presented-request';

const headers = (h: Record<string, string>) => (name: string) => h[name];

function refusal(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return `${error.reason}: ${error.message}`;
  }
}

describe('the request as the gateway saw it', () => {
  it('forward-auth: nginx X-Original-*, or Traefik X-Forwarded-*, and the DPoP header', () => {
    expect(
      presentedFromForwardedHeaders(
        headers({
          'x-original-method': 'GET',
          'x-original-url': 'https://api.test/orders?id=1',
          dpop: 'p.r.f',
        }),
      ),
    ).toEqual({ method: 'GET', uri: 'https://api.test/orders?id=1', dpop: 'p.r.f' });
    expect(
      presentedFromForwardedHeaders(
        headers({
          'x-forwarded-method': 'POST',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'api.test',
          'x-forwarded-uri': '/orders',
        }),
      ),
    ).toEqual({ method: 'POST', uri: 'https://api.test/orders', dpop: undefined });
  });

  it('a client cannot steer htm/htu with the header set its gateway does not write', () => {
    const nginx = {
      'x-original-method': 'GET',
      'x-original-url': 'https://api.test/orders',
    };
    // The same values in both sets are harmless; different ones are refused.
    expect(
      refusal(() =>
        presentedFromForwardedHeaders(headers({ ...nginx, 'x-forwarded-method': 'GET' })),
      ),
    ).toBe('OK');
    expect(
      refusal(() =>
        presentedFromForwardedHeaders(headers({ ...nginx, 'x-forwarded-method': 'DELETE' })),
      ),
    ).toMatch(/^PROOF_INVALID: .*method/);
    expect(
      refusal(() =>
        presentedFromForwardedHeaders(
          headers({
            ...nginx,
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'api.test',
            'x-forwarded-uri': '/admin',
          }),
        ),
      ),
    ).toMatch(/^PROOF_INVALID: .*URI/);
    // A lone X-Forwarded-Uri forms no URI: the gateway's own X-Original-URL stands.
    expect(
      presentedFromForwardedHeaders(headers({ ...nginx, 'x-forwarded-uri': '/admin' })).uri,
    ).toBe('https://api.test/orders');
    expect(
      refusal(() => presentedFromForwardedHeaders(headers({ 'x-original-method': 'GE T' }))),
    ).toMatch(/^PROOF_INVALID: .*method/);
  });

  it('ext_authz: method, scheme, host and path of attributes.request.http', () => {
    expect(
      presentedFromEnvoy({
        method: 'PUT',
        scheme: 'https',
        host: 'api.test',
        path: '/x?y=1',
        dpop: 'a.b.c',
      }),
    ).toEqual({ method: 'PUT', uri: 'https://api.test/x?y=1', dpop: 'a.b.c' });
    expect(presentedFromEnvoy({})).toEqual({
      method: undefined,
      uri: undefined,
      dpop: undefined,
    });
  });

  it('resolve calls: optional fields, type-checked and bounded, naming the field', () => {
    expect(
      presentedFromFields({ method: 'GET', uri: 'https://api.test/', dpopProof: 'a.b.c' }, 'h.d.r'),
    ).toEqual({
      method: 'GET',
      uri: 'https://api.test/',
      dpop: 'a.b.c',
      clientCertificate: undefined,
    });
    expect(presentedFromFields({}, 'h.d.r').dpop).toBe('h.d.r');
    expect(refusal(() => presentedFromFields({ dpopProof: 7 }))).toBe(
      'PROOF_INVALID: the dpopProof field must be a string',
    );
    expect(refusal(() => presentedFromFields({ uri: 'x'.repeat(9000) }))).toMatch(/uri field/);
    expect(refusal(() => presentedFromFields({ method: 'G\nET' }))).toMatch(/method field/);
    expect(refusal(() => presentedFromFields({ clientCertificate: {} }))).toMatch(
      /clientCertificate field/,
    );
  });
});
