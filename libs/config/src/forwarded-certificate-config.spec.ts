import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, ConfigError, parseCidr } from '.';

const SECRET = 'gateway-shared-secret-0123456789';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'binding-config-'));
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
});

const build = (forwardedCertificate: unknown, env: Record<string, string> = {}) =>
  buildConfig({ binding: { forwardedCertificate } }, env, {
    source: 'resolver.yaml',
    baseDir: dir,
  });
const failure = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof ConfigError ? error.message : `not a ConfigError: ${String(error)}`;
  }
};
const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

describe('binding.forwardedCertificate config', () => {
  it('is off by default: no forwarded certificate is read', () => {
    const config = buildConfig({}, {}, { source: 'resolver.yaml', baseDir: dir });
    expect(config.binding.forwardedCertificate).toBeUndefined();
  });

  it("gives each format its gateway's header, lowercases a named one", () => {
    expect(build({ format: 'xfcc' }).binding.forwardedCertificate).toEqual({
      format: 'xfcc',
      header: 'x-forwarded-client-cert',
      trustedSources: [],
    });
    expect(build({ format: 'rfc9440' }).binding.forwardedCertificate?.header).toBe('client-cert');
    expect(build({ format: 'traefik' }).binding.forwardedCertificate?.header).toBe(
      'x-forwarded-tls-client-cert',
    );
    expect(
      build({ format: 'pem-url', header: 'X-SSL-Client-Cert' }).binding.forwardedCertificate
        ?.header,
    ).toBe('x-ssl-client-cert');
  });

  it('reads the shared secret from a variable or a file, keeping only its sha256', () => {
    const fromEnv = build(
      { format: 'pem-url', sharedSecret: { env: 'GW_SECRET' }, secretHeader: 'X-Gateway-Secret' },
      { GW_SECRET: SECRET },
    ).binding.forwardedCertificate;
    expect(fromEnv).toEqual({
      format: 'pem-url',
      header: 'x-client-cert',
      trustedSources: [],
      secretHeader: 'x-gateway-secret',
      secretSha256: sha256(SECRET),
    });
    const fromFile = build({
      format: 'pem-url',
      sharedSecret: { file: 'secret' },
      secretHeader: 'x-gateway-secret',
    }).binding.forwardedCertificate;
    expect(fromFile?.secretSha256).toEqual(sha256(SECRET));
    expect(JSON.stringify(fromFile)).not.toContain(SECRET);
  });

  it.each([
    [{ header: 'x-client-cert' }, 'binding.forwardedCertificate.format'],
    [{ format: 'pem' }, 'binding.forwardedCertificate.format'],
    [{ format: 'xfcc', header: 'bad header' }, 'binding.forwardedCertificate.header'],
    [{ format: 'xfcc', header: 'Authorization' }, 'binding.forwardedCertificate.header'],
    [{ format: 'xfcc', header: '__proto__' }, 'binding.forwardedCertificate.header'],
    [
      { format: 'xfcc', trustedSources: ['10.0.0.0/33'] },
      'binding.forwardedCertificate.trustedSources[0]',
    ],
    [
      { format: 'xfcc', trustedSources: ['10.0.0.1', 'gateway'] },
      'binding.forwardedCertificate.trustedSources[1]',
    ],
    [
      { format: 'xfcc', trustedSources: ['::1/129'] },
      'binding.forwardedCertificate.trustedSources[0]',
    ],
    // The one missing of the pair is named.
    [{ format: 'xfcc', sharedSecret: { env: 'X' } }, 'binding.forwardedCertificate.secretHeader'],
    [{ format: 'xfcc', secretHeader: 'x-secret' }, 'binding.forwardedCertificate.sharedSecret'],
    [
      { format: 'xfcc', sharedSecret: { env: 'X', file: 'y' }, secretHeader: 'x-s' },
      'binding.forwardedCertificate.sharedSecret',
    ],
    [
      { format: 'xfcc', sharedSecret: { env: 'X' }, secretHeader: 'x-forwarded-client-cert' },
      'binding.forwardedCertificate.secretHeader',
    ],
    [{ format: 'xfcc', trust: 'all' }, 'binding.forwardedCertificate'],
  ])('stops the boot naming the field for %j', (section, field) => {
    expect(failure(() => build(section, { X: SECRET }))).toContain(field);
  });

  it('reads no header without a format (the request field from trusted callers still counts)', () => {
    expect(build({ trustedSources: ['10.0.0.0/8'] }).binding.forwardedCertificate).toEqual({
      trustedSources: ['10.0.0.0/8'],
      header: undefined,
    });
  });

  it('stops the boot when the secret is missing or short, naming where it was read', () => {
    const section = { format: 'xfcc', sharedSecret: { env: 'GW' }, secretHeader: 'x-s' };
    expect(failure(() => build(section))).toContain(
      'binding.forwardedCertificate.sharedSecret.env: environment variable GW is not set',
    );
    expect(failure(() => build(section, { GW: 'short' }))).toContain('at least 24 bytes');
    expect(failure(() => build({ ...section, sharedSecret: { file: 'missing' } }))).toContain(
      'binding.forwardedCertificate.sharedSecret.file: cannot read',
    );
  });

  it('parses CIDR blocks and lone addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
    expect(parseCidr('10.0.0.0/+8')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/8')).toBeUndefined();
  });
});
