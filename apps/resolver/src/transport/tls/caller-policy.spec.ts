import type { PeerCertificate } from 'node:tls';
import fc from 'fast-check';
import { CallerPolicy, subjectAltNames } from './caller-policy';
import { routeSurface } from './http-tls';

const cert = (subject: Record<string, unknown>, san?: string) =>
  ({ raw: Buffer.from('x'), subject, subjectaltname: san }) as unknown as PeerCertificate;

describe('subjectAltNames', () => {
  it('splits the names Node prints, and keeps a quoted value with a comma as one name', () => {
    expect(subjectAltNames('DNS:a.example, URI:spiffe://x/y, IP Address:127.0.0.1')).toEqual([
      'DNS:a.example',
      'URI:spiffe://x/y',
      'IP Address:127.0.0.1',
    ]);
    expect(subjectAltNames('DNS:"evil.example, DNS:gateway.internal"')).toEqual([
      'DNS:evil.example, DNS:gateway.internal',
    ]);
    expect(subjectAltNames(undefined)).toEqual([]);
    expect(subjectAltNames('no colon here')).toEqual([]);
    expect(subjectAltNames('DNS:"unterminated')).toEqual([]);
  });

  it('never throws on any text, and every name it yields is typed (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const names = subjectAltNames(text);
        for (const name of names) expect(name.includes(':')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CallerPolicy', () => {
  const policy = new CallerPolicy({
    callers: [
      {
        name: 'gateway',
        san: ['DNS:Gateway.Internal'],
        surfaces: ['authz', 'forwarded-certificate'],
      },
      { name: 'ops', subject: { CN: 'operator', O: 'Example' }, surfaces: ['admin'] },
    ],
    openSurfaces: ['metrics'],
  });

  it('names a caller by SAN (DNS without case) or by every configured subject attribute', () => {
    expect(policy.identify(cert({ CN: 'x' }, 'DNS:gateway.internal'))).toMatchObject({
      name: 'gateway',
    });
    expect(policy.identify(cert({ CN: 'operator', O: 'Example' }))).toMatchObject({ name: 'ops' });
    expect(policy.identify(cert({ CN: 'operator' })).kind).toBe('unknown');
    // A multi-valued attribute never equals one configured value.
    expect(policy.identify(cert({ CN: ['operator', 'x'], O: 'Example' })).kind).toBe('unknown');
    // An inherited property is not an attribute of the certificate.
    expect(
      policy.identify(
        cert(Object.create({ CN: 'operator', O: 'Example' }) as Record<string, unknown>),
      ).kind,
    ).toBe('unknown');
    expect(policy.identify(cert({ CN: 'x' }, 'DNS:"x, DNS:gateway.internal"')).kind).toBe(
      'unknown',
    );
    expect(policy.identify(undefined).kind).toBe('anonymous');
  });

  it('reserves every surface but the open ones, and a route without a surface to nobody', () => {
    const gateway = policy.identify(cert({}, 'DNS:gateway.internal'));
    expect(policy.refusal(gateway, 'authz')).toBeUndefined();
    expect(policy.refusal(gateway, 'admin')).toBe('caller_not_allowed');
    expect(policy.refusal(gateway, undefined)).toBe('caller_not_allowed');
    expect(policy.refusal({ kind: 'anonymous' }, 'metrics')).toBeUndefined();
    expect(policy.refusal({ kind: 'anonymous' }, 'resolve')).toBe('caller_anonymous');
    expect(policy.refusal({ kind: 'unknown' }, 'resolve')).toBe('caller_unknown');
    expect(
      new CallerPolicy({ callers: [], openSurfaces: [] }).refusal({ kind: 'anonymous' }, 'admin'),
    ).toBeUndefined();
  });

  it('maps route patterns (never raw URLs) to surfaces', () => {
    expect(routeSurface('/v1/authz')).toBe('authz');
    expect(routeSurface('/admin/v1/users/:id')).toBe('admin');
    expect(routeSurface('/scim/v2/Users')).toBe('scim');
    expect(routeSurface('/ssf/push/:transmitter')).toBe('ssf');
    expect(routeSurface('/health/live')).toBe('open');
    expect(routeSurface(undefined)).toBe('open');
    expect(routeSurface('/v2/something-new')).toBeUndefined();
  });
});
