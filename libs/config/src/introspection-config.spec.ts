import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildConfig, introspectionRoutingProblems } from '.';
import { configFailure as failure } from './testing/config-failure';

const issuer = (name: string, introspection?: Record<string, unknown>) => ({
  issuer: `https://${name}.example/`,
  discovery: true,
  audiences: ['api'],
  algorithms: ['ES256'],
  ...(introspection ? { introspection } : {}),
});
const basic = (extra: Record<string, unknown> = {}) => ({
  clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecretEnv: 'RS_SECRET' },
  ...extra,
});
const env = { RS_SECRET: 'a-secret' };
const build = (issuers: unknown[], vars: Record<string, string> = env, baseDir = '/') =>
  buildConfig({ issuers }, vars, { source: 'resolver.yaml', baseDir });

describe('issuers[].introspection', () => {
  it('applies the defaults and reads the client secret from its variable', () => {
    const [a] = build([issuer('a', basic())]).issuers;
    expect(a?.introspection).toEqual({
      clientAuth: { method: 'client_secret_basic', clientId: 'rs', secret: 'a-secret' },
      requiredScopes: [],
      cacheCapSeconds: 60,
      negativeCacheSeconds: 5,
      timeoutMs: 2000,
      maxConcurrent: 32,
      maxResponseBytes: 65536,
      signedResponses: false,
    });
  });

  it('reads a secret file (without its trailing newline) and a private key file, made absolute', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'introspection-config-'));
    await writeFile(join(dir, 'secret'), 'from-a-file\n');
    await writeFile(join(dir, 'key.pem'), 'not parsed here');
    const [a, b] = build(
      [
        issuer('a', {
          prefix: 'a_',
          clientAuth: { method: 'client_secret_post', clientId: 'rs', clientSecretFile: 'secret' },
        }),
        issuer('b', {
          prefix: 'b_',
          endpoint: 'https://b.example/introspect',
          clientAuth: { method: 'private_key_jwt', clientId: 'rs', privateKeyFile: 'key.pem' },
        }),
      ],
      {},
      dir,
    ).issuers;
    expect(a?.introspection?.clientAuth).toEqual({
      method: 'client_secret_post',
      clientId: 'rs',
      secret: 'from-a-file',
    });
    expect(b?.introspection?.clientAuth).toEqual({
      method: 'private_key_jwt',
      clientId: 'rs',
      privateKeyFile: join(dir, 'key.pem'),
      algorithm: 'ES256',
    });
  });

  it('names the field of every bad value', () => {
    expect(failure(() => build([issuer('a', basic({ endpoint: 'ftp://x/' }))]))).toMatch(
      /issuers\[0\]\.introspection\.endpoint/,
    );
    expect(
      failure(() =>
        build([issuer('a', { clientAuth: { method: 'client_secret_jwt', clientId: 'rs' } })]),
      ),
    ).toMatch(/issuers\[0\]\.introspection\.clientAuth\.method/);
    expect(
      failure(() =>
        build([
          issuer('a', {
            clientAuth: {
              method: 'client_secret_basic',
              clientId: 'rs',
              clientSecretEnv: 'A',
              clientSecretFile: 'b',
            },
          }),
        ]),
      ),
    ).toMatch(/issuers\[0\]\.introspection\.clientAuth: .*exactly one of clientSecretEnv/);
    expect(failure(() => build([issuer('a', basic({ prefix: 'ey.J' }))]))).toMatch(
      /issuers\[0\]\.introspection\.prefix: .*without "\."/,
    );
    expect(failure(() => build([issuer('a', basic({ cacheCapSeconds: 86_400 }))]))).toMatch(
      /issuers\[0\]\.introspection\.cacheCapSeconds/,
    );
    expect(failure(() => build([issuer('a', basic({ surprise: 1 }))]))).toMatch(
      /issuers\[0\]\.introspection/,
    );
  });

  it('refuses a client secret variable that is not set, and an unreadable private key', () => {
    expect(failure(() => build([issuer('a', basic())], {}))).toMatch(
      /issuers\[0\]\.introspection\.clientAuth\.clientSecretEnv: environment variable RS_SECRET is not set/,
    );
    expect(
      failure(() =>
        build([
          issuer('a', {
            clientAuth: { method: 'private_key_jwt', clientId: 'rs', privateKeyFile: '/nope.pem' },
          }),
        ]),
      ),
    ).toMatch(/issuers\[0\]\.introspection\.clientAuth\.privateKeyFile: cannot read/);
  });

  it('routing: with two introspecting issuers each declares a prefix, and no prefix starts another', () => {
    expect(failure(() => build([issuer('a', basic()), issuer('b', basic())]))).toMatch(
      /issuers\[0\]\.introspection\.prefix: more than one issuer introspects/,
    );
    expect(
      failure(() => build([issuer('a', basic({ prefix: 'at_' })), issuer('b', basic())])),
    ).toMatch(/issuers\[1\]\.introspection\.prefix: more than one issuer/);
    expect(
      failure(() =>
        build([issuer('a', basic({ prefix: 'tok' })), issuer('b', basic({ prefix: 'tok_b' }))]),
      ),
    ).toMatch(/issuers\[1\]\.introspection\.prefix: .*overlaps issuers\[0\]/);
    // One introspecting issuer needs no prefix; an issuer without the section is not counted.
    expect(build([issuer('a', basic()), issuer('b')]).issuers).toHaveLength(2);
    expect(
      build([issuer('a', basic({ prefix: 'a_' })), issuer('b', basic({ prefix: 'b_' }))]).issuers,
    ).toHaveLength(2);
  });

  it('routing (property): whenever the rule accepts the prefixes, no token reaches two issuers', () => {
    const prefix = fc.option(fc.stringMatching(/^[ab_]{1,3}$/), { nil: undefined });
    fc.assert(
      fc.property(
        fc.array(prefix, { minLength: 1, maxLength: 4 }),
        fc.stringMatching(/^[ab_]{0,6}$/),
        (prefixes, token) => {
          const issuers = prefixes.map((p) => ({ introspection: { prefix: p } }));
          if (introspectionRoutingProblems(issuers).length > 0) return;
          const takers = prefixes.filter((p) => p === undefined || token.startsWith(p));
          expect(takers.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
