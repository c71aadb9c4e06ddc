import type { Resolution } from '@resolver/resolution';
import { encodeHeaderValue, identityHeaderNames, identityHeaders } from './identity-headers';

const names = {
  userId: 'x-user-id',
  email: 'x-user-email',
  tenant: 'x-tenant-id',
  roles: 'x-user-roles',
  kind: 'x-principal-kind',
};

const resolution = (principal: Partial<Resolution['principal']>): Resolution => ({
  principal: {
    id: '6f1d3c1e-0000-4000-8000-000000000001',
    kind: 'user',
    tenantId: '',
    email: '',
    username: '',
    displayName: '',
    roles: [],
    status: 'active',
    attributes: {},
    ...principal,
  },
  token: { issuer: 'https://idp', subject: 's', audience: [], jti: '', scopes: [] },
  source: 'STORE',
});

describe('identity headers', () => {
  it('keeps printable ASCII as it is and percent-encodes everything else, % included', () => {
    expect(encodeHeaderValue('alice@example.com')).toBe('alice@example.com');
    expect(encodeHeaderValue('José@exämple.com')).toBe('Jos%C3%A9@ex%C3%A4mple.com');
    expect(encodeHeaderValue('a\r\nx-user-id: evil')).toBe('a%0D%0Ax-user-id: evil');
    expect(encodeHeaderValue('100%')).toBe('100%25');
    for (const v of ['José', '100%', 'a\r\nb', '😀 x', 'plain'])
      expect(decodeURIComponent(encodeHeaderValue(v))).toBe(v);
  });

  it('maps a principal to the configured names, leaving out empty values', () => {
    expect(
      identityHeaders(
        resolution({ email: 'a@b.c', tenantId: 'acme', roles: ['admin', 'a,b', 'é'] }),
        { ...names, userId: 'x-uid' },
      ),
    ).toEqual({
      'x-uid': '6f1d3c1e-0000-4000-8000-000000000001',
      'x-user-email': 'a@b.c',
      'x-tenant-id': 'acme',
      'x-user-roles': 'admin,a%2Cb,%C3%A9',
      'x-principal-kind': 'user',
    });
    expect(Object.keys(identityHeaders(resolution({ kind: 'service' }), names))).toEqual([
      'x-user-id',
      'x-principal-kind',
    ]);
    expect(identityHeaderNames(names)).toHaveLength(5);
  });
});
