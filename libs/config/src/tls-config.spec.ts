import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, ConfigError } from '.';

/** Two self-signed P-256 certificates with their keys, made with the openssl CLI (test only). */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tls-config-'));
  for (const name of ['a', 'b'])
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-subj',
        `/CN=${name}`,
        '-days',
        '2',
      ]),
      { cwd: dir, stdio: 'ignore' },
    );
  writeFileSync(join(dir, 'garbage.crt'), 'not a certificate');
});

const build = (tls: unknown, env: Record<string, string> = {}) =>
  buildConfig({ tls }, env, { source: 'resolver.yaml', baseDir: dir });
/** The boot's message for a config, or what went wrong instead of a ConfigError. */
const failure = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof ConfigError ? error.message : `not a ConfigError: ${String(error)}`;
  }
};
const listener = (extra: Record<string, unknown> = {}) => ({
  certFile: 'a.crt',
  keyFile: 'a.key',
  ...extra,
});

describe('tls config', () => {
  it('is off by default: no listener serves TLS and no caller is enforced', () => {
    const config = buildConfig({}, {}, { source: 'resolver.yaml', baseDir: dir });
    expect(config.tls).toMatchObject({ callers: [], openSurfaces: ['metrics'] });
    expect(config.tls.http).toBeUndefined();
    expect(config.tls.grpc).toBeUndefined();
  });

  it('resolves the files beside the config, with TLS 1.2 and HTTP/2 by default', () => {
    const config = build({ http: listener({ caFile: 'b.crt', clientCertificate: 'optional' }) });
    expect(config.tls.http).toMatchObject({
      certFile: join(dir, 'a.crt'),
      keyFile: join(dir, 'a.key'),
      caFile: join(dir, 'b.crt'),
      minVersion: 'TLSv1.2',
      http2: true,
    });
  });

  it.each([
    [
      { http: listener({ clientCertificate: 'required' }) },
      'tls.http.caFile: required when clientCertificate is required',
    ],
    [{ grpc: listener({ minVersion: 'TLSv1.1' }) }, 'tls.grpc.minVersion'],
    [
      { grpc: listener({ clientCertificate: 'sometimes', caFile: 'b.crt' }) },
      'tls.grpc.clientCertificate',
    ],
    [{ http: listener({ ciphers: 'NULL' }) }, 'tls.http.ciphers: unknown field'],
    [{ http: listener({ certFile: '' }) }, 'tls.http.certFile'],
    [
      { http: listener(), callers: [{ name: 'gw', san: ['DNS:gw'], surfaces: ['authz'] }] },
      'tls.callers: callers are recognised by their client certificates',
    ],
    [
      {
        http: listener({ caFile: 'b.crt', clientCertificate: 'optional' }),
        callers: [{ name: 'gw', san: ['DNS:a, DNS:b'], surfaces: ['authz'] }],
      },
      'tls.callers[0].san[0]',
    ],
    [
      {
        http: listener({ caFile: 'b.crt', clientCertificate: 'optional' }),
        callers: [{ name: 'gw', surfaces: ['authz'] }],
      },
      'name the certificate',
    ],
    [
      {
        http: listener({ caFile: 'b.crt', clientCertificate: 'optional' }),
        callers: [{ name: 'gw', san: ['DNS:gw'], surfaces: ['everything'] }],
      },
      'tls.callers[0].surfaces[0]',
    ],
  ])('a bad section names its field: %j', (tls, field) => {
    expect(failure(() => build(tls))).toContain(field);
  });

  it.each([
    [{ http: listener({ certFile: 'missing.crt' }) }, 'tls.http.certFile: cannot read'],
    [{ http: listener({ certFile: 'garbage.crt' }) }, 'tls.http.certFile'],
    [{ grpc: listener({ keyFile: 'b.key' }) }, 'tls.grpc.keyFile'],
    [{ grpc: listener({ keyFile: 'a.crt' }) }, 'tls.grpc.keyFile'],
    [
      { http: listener({ caFile: 'garbage.crt', clientCertificate: 'optional' }) },
      'tls.http.caFile',
    ],
  ])('files that cannot serve stop the boot naming the field: %j', (tls, field) => {
    const message = failure(() => build(tls));
    expect(message).toContain(field);
    // The file's content (a private key, say) is never quoted.
    expect(message).not.toContain('PRIVATE KEY');
  });
});

describe('database TLS (sslmode in the URL)', () => {
  const url = (query: string) => `postgres://u:p@127.0.0.1:5432/db?${query}`;
  it('accepts the modes node-postgres knows, and a readable CA', () => {
    for (const mode of ['disable', 'require', 'verify-ca', 'verify-full', 'no-verify'])
      expect(() => build(undefined, { DATABASE_URL: url(`sslmode=${mode}`) })).not.toThrow();
    expect(() =>
      build(undefined, {
        DATABASE_URL: url(`sslmode=verify-full&sslrootcert=${join(dir, 'a.crt')}`),
      }),
    ).not.toThrow();
  });

  it('refuses an unknown mode and an unreadable CA, naming the variable and never its password', () => {
    const bad = failure(() => build(undefined, { DATABASE_URL: url('sslmode=maybe') }));
    expect(bad).toContain('DATABASE_URL: sslmode must be one of');
    const missing = failure(() =>
      build(undefined, {
        DATABASE_URL: url('sslmode=verify-full&sslrootcert=/nonexistent/ca.crt'),
      }),
    );
    expect(missing).toContain('DATABASE_URL: sslrootcert: cannot read /nonexistent/ca.crt');
    expect(bad + missing).not.toContain(':p@');
  });
});
