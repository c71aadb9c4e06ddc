import { createHash } from 'node:crypto';
import type { ForwardedCertificateConfig } from '@resolver/config';
import { ForwardedCertificateTrust } from './forwarded-certificate-trust';

const SECRET = 'gateway-shared-secret-0123456789';
const config = (extra: Partial<ForwardedCertificateConfig> = {}): ForwardedCertificateConfig => ({
  format: 'xfcc',
  header: 'x-forwarded-client-cert',
  trustedSources: [],
  ...extra,
});
const withSecret = config({
  secretHeader: 'x-gateway-secret',
  secretSha256: new Uint8Array(createHash('sha256').update(SECRET).digest()),
});

describe('ForwardedCertificateTrust', () => {
  it('believes nobody when no forwarded certificate is configured', () => {
    const trust = new ForwardedCertificateTrust(undefined);
    expect(trust.enabled).toBe(false);
    expect(trust.basis({ callerMayForward: true, remoteAddress: '127.0.0.1' })).toBeUndefined();
  });

  it('believes nobody by default once configured: a header alone proves nothing', () => {
    const trust = new ForwardedCertificateTrust(config());
    expect(trust.header).toEqual({ name: 'x-forwarded-client-cert', format: 'xfcc' });
    expect(trust.basis({ callerMayForward: false, remoteAddress: '127.0.0.1' })).toBeUndefined();
    expect(trust.basis({ callerMayForward: false, secret: SECRET })).toBeUndefined();
  });

  it('believes a caller the TLS policy allows to forward certificates', () => {
    const trust = new ForwardedCertificateTrust(config());
    expect(trust.basis({ callerMayForward: true })).toBe('caller');
  });

  it('believes the configured sources, IPv4, IPv6 and IPv4-mapped, and nothing next to them', () => {
    const trust = new ForwardedCertificateTrust(
      config({ trustedSources: ['10.1.0.0/16', '192.0.2.7', 'fd00::/8'] }),
    );
    const from = (remoteAddress: string) => trust.basis({ callerMayForward: false, remoteAddress });
    expect(from('10.1.200.3')).toBe('source');
    expect(from('::ffff:10.1.0.1')).toBe('source');
    expect(from('192.0.2.7')).toBe('source');
    expect(from('fd12::1')).toBe('source');
    expect(from('10.2.0.1')).toBeUndefined();
    expect(from('192.0.2.8')).toBeUndefined();
    expect(from('fe80::1')).toBeUndefined();
    expect(from('not an address')).toBeUndefined();
    expect(from('')).toBeUndefined();
    expect(trust.basis({ callerMayForward: false })).toBeUndefined();
  });

  it('believes the shared secret, and only the whole of it', () => {
    const trust = new ForwardedCertificateTrust(withSecret);
    expect(trust.secretHeader).toBe('x-gateway-secret');
    const sent = (secret?: string) => trust.basis({ callerMayForward: false, secret });
    expect(sent(SECRET)).toBe('secret');
    expect(sent(undefined)).toBeUndefined();
    expect(sent('')).toBeUndefined();
    expect(sent(SECRET.slice(0, -1))).toBeUndefined();
    expect(sent(`${SECRET}x`)).toBeUndefined();
    expect(sent(SECRET.toUpperCase())).toBeUndefined();
    expect(sent(SECRET.repeat(1_000))).toBeUndefined();
  });
});
