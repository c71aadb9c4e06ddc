import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '.';
import { configFailure as failure } from './testing/config-failure';

const issuer = (iss: string, extra: Record<string, unknown> = {}) => ({
  issuer: iss,
  jwksUri: `${iss}/jwks`,
  audiences: ['api'],
  algorithms: ['RS256'],
  ...extra,
});
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;
const build = (issuers: unknown[], env: Record<string, string> = {}, baseDir = '/') =>
  buildConfig(
    { issuers },
    { DATABASE_URL: 'postgres://db/x', ...env },
    { source: 'resolver.yaml', baseDir },
  );

describe('config: encrypted JWTs (decryption) and PASETO', () => {
  it('defaults the allow-lists (no RSA1_5, no dir), compression off, unsigned payloads refused', () => {
    const config = build(
      [issuer('https://a.test', { decryption: { keys: [{ kid: 'e1', env: 'ENC_KEY' }] } })],
      { ENC_KEY: PEM },
    );
    const d = config.issuers[0]?.decryption;
    expect(d).toMatchObject({
      keyManagementAlgorithms: ['RSA-OAEP-256', 'ECDH-ES+A256KW', 'ECDH-ES+A128KW'],
      contentEncryptionAlgorithms: ['A256GCM', 'A128GCM'],
      compression: { allowed: false, maxDecompressedBytes: 65536 },
      allowUnsignedPayload: false,
    });
    expect(d?.keys[0]).toMatchObject({
      kid: 'e1',
      material: PEM,
      field: 'issuers[0].decryption.keys[0]',
    });
  });

  it('reads a key file relative to the config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'formats-config-'));
    await writeFile(join(dir, 'enc.pem'), PEM);
    const config = build(
      [issuer('https://a.test', { decryption: { keys: [{ kid: 'e1', file: 'enc.pem' }] } })],
      {},
      dir,
    );
    expect(config.issuers[0]?.decryption?.keys[0]?.material).toBe(PEM);
  });

  it.each([
    [
      {
        keys: [{ kid: 'e1', env: 'X' }],
        keyManagementAlgorithms: ['RSA-OAEP-256', 'RSA-OAEP-999'],
      },
      /issuers\[0\]\.decryption\.keyManagementAlgorithms\[1\].*unsupported key-management algorithm "RSA-OAEP-999"/,
    ],
    [
      { keys: [{ kid: 'e1', env: 'X' }], contentEncryptionAlgorithms: ['A512GCM'] },
      /issuers\[0\]\.decryption\.contentEncryptionAlgorithms\[0\].*unsupported content encryption "A512GCM"/,
    ],
    [{ keys: [] }, /issuers\[0\]\.decryption\.keys.*at least one decryption key/],
    [{ keys: [{ kid: 'e1' }] }, /issuers\[0\]\.decryption\.keys\[0\].*exactly one of file or env/],
    [
      {
        keys: [
          { kid: 'e1', env: 'X' },
          { kid: 'e1', env: 'Y' },
        ],
      },
      /issuers\[0\]\.decryption\.keys\[1\]\.kid.*duplicate kid e1/,
    ],
    [
      {
        keys: [{ kid: 'e1', env: 'X' }],
        compression: { allowed: true, maxDecompressedBytes: 1e9 },
      },
      /issuers\[0\]\.decryption\.compression\.maxDecompressedBytes/,
    ],
    [
      { keys: [{ kid: 'e1', env: 'X' }], allowUnsigned: true },
      /issuers\[0\]\.decryption.*allowUnsigned/,
    ],
  ])('refuses %j, naming the field', (decryption, message) => {
    expect(
      failure(() => build([issuer('https://a.test', { decryption })], { X: PEM, Y: PEM })),
    ).toMatch(message);
  });

  it('refuses one kid in two issuers (a JWE’s kid routes it to one issuer)', () => {
    const d = { keys: [{ kid: 'shared', env: 'X' }] };
    expect(
      failure(() =>
        build(
          [
            issuer('https://a.test', { decryption: d }),
            issuer('https://b.test', { decryption: d }),
          ],
          { X: PEM },
        ),
      ),
    ).toMatch(
      /issuers\[1\]\.decryption\.keys\[0\]\.kid.*already a decryption key of https:\/\/a\.test/,
    );
  });

  it('names an unset variable or an unreadable file', () => {
    expect(
      failure(() =>
        build([issuer('https://a.test', { decryption: { keys: [{ kid: 'e', env: 'NOPE' }] } })]),
      ),
    ).toMatch(/issuers\[0\]\.decryption\.keys\[0\]\.env: environment variable NOPE is not set/);
    expect(
      failure(() =>
        build([
          issuer('https://a.test', { decryption: { keys: [{ kid: 'e', file: '/no/such.pem' }] } }),
        ]),
      ),
    ).toMatch(/issuers\[0\]\.decryption\.keys\[0\]\.file: cannot read/);
  });

  it.each([
    [
      { keys: [{ paserk: 'k4.public.short' }] },
      /issuers\[0\]\.paseto\.keys\[0\]\.paserk.*k4\.public/,
    ],
    [
      { keys: [{ paserk: 'k3.public.' + 'A'.repeat(43) }] },
      /issuers\[0\]\.paseto\.keys\[0\]\.paserk/,
    ],
    [{ keys: [{ kid: 'x' }] }, /issuers\[0\]\.paseto\.keys\[0\].*exactly one of paserk or file/],
    [{ keys: [] }, /issuers\[0\]\.paseto\.keys.*at least one v4\.public key/],
    [
      { keys: [{ paserk: 'k4.public.' + 'A'.repeat(43) }], version: 'v3' },
      /issuers\[0\]\.paseto.*version/,
    ],
  ])('refuses paseto %j, naming the field', (paseto, message) => {
    expect(failure(() => build([issuer('https://a.test', { paseto })]))).toMatch(message);
  });

  it('accepts a PASERK key with its implicit assertion', () => {
    const config = build([
      issuer('https://a.test', {
        paseto: {
          keys: [{ kid: 'p1', paserk: 'k4.public.' + 'A'.repeat(43) }],
          implicitAssertion: 'tenant-a',
        },
      }),
    ]);
    expect(config.issuers[0]?.paseto).toMatchObject({
      implicitAssertion: 'tenant-a',
      maxFooterBytes: 1024,
    });
  });
});
