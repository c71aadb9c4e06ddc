import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, loadConfig } from '.';
import { configFailure as failure } from './testing/config-failure';

const issuer = (extra: Record<string, unknown> = {}) => ({
  issuer: 'https://idp.example/',
  jwksUri: 'https://idp.example/jwks',
  audiences: ['api'],
  algorithms: ['RS256'],
  ...extra,
});
const build = (raw: unknown, env: Record<string, string> = {}) =>
  buildConfig(raw, env, { source: 'resolver.yaml', baseDir: '/' });

describe('config', () => {
  it('defaults to embedded mode on loopback with no file and no DATABASE_URL', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('embedded');
    expect(config.http).toMatchObject({ port: 8080, bindAddress: '127.0.0.1' });
    expect(config.grpc.port).toBe(50051);
    expect(config.limits.maxTokenBytes).toBe(8192);
  });

  it('is external with DATABASE_URL, binding all interfaces unless BIND_ADDRESS says otherwise', () => {
    const config = build({}, { DATABASE_URL: 'postgres://u:p@db/resolver', HTTP_PORT: '9090' });
    expect(config.mode).toBe('external');
    expect(config.http).toMatchObject({ port: 9090, bindAddress: '0.0.0.0' });
    expect(
      build({}, { DATABASE_URL: 'postgres://db/x', BIND_ADDRESS: '10.0.0.1' }).grpc.bindAddress,
    ).toBe('10.0.0.1');
  });

  it('applies issuer defaults: subject claim, external lookup, no rewriting folds, jose-required claims', () => {
    const [a] = build({ issuers: [issuer()] }).issuers;
    expect(a).toMatchObject({
      clockToleranceSeconds: 30,
      requiredClaims: ['exp'],
      subject: {
        claim: 'sub',
        lookup: 'external',
        maxLength: 255,
        normalize: { trim: false, nfc: true, lowercase: false },
      },
      jit: { enabled: false },
      jwks: { timeoutMs: 2000, cooldownMs: 30000, cacheMaxAgeMs: 600000 },
    });
    const [b] = build({
      issuers: [issuer({ subject: { claim: 'email', lookup: 'email' } })],
    }).issuers;
    // The email lookup folds ASCII case itself; full lowercasing is only ever the operator's choice.
    expect(b?.subject.normalize.lowercase).toBe(false);
  });

  it('binds no issuer by default, and reads a binding policy with its DPoP proof defaults', () => {
    const [plain, bound] = build({
      issuers: [
        issuer(),
        issuer({
          issuer: 'https://b.example/',
          binding: { mode: 'dpop', enforcement: 'required' },
        }),
      ],
    }).issuers;
    expect(plain?.binding).toMatchObject({ mode: 'none', enforcement: 'when-bound' });
    expect(bound?.binding).toMatchObject({
      mode: 'dpop',
      enforcement: 'required',
      dpop: { proofMaxAgeSeconds: 60, clockToleranceSeconds: 5, maxProofBytes: 4096 },
    });
    expect(bound?.binding?.dpop.algorithms).toContain('ES256');
    expect(bound?.binding?.dpop.algorithms.some((a) => a.startsWith('HS'))).toBe(false);
  });

  it.each([
    [
      { issuers: [issuer({ algorithms: ['none'] })] },
      'issuers[0].algorithms[0]: "none" is never allowed',
    ],
    [
      { issuers: [issuer({ algorithms: ['HS256'] })] },
      'issuers[0].algorithms[0]: HS256 is an HMAC algorithm',
    ],
    [
      { issuers: [issuer({ algorithms: [] })] },
      'issuers[0].algorithms: list the allowed algorithms',
    ],
    [{ issuers: [issuer({ audiences: [] })] }, 'issuers[0].audiences'],
    [{ issuers: [issuer({ keys: ['a.pem'] })] }, 'set exactly one key source'],
    [{ issuers: [{ ...issuer(), jwksUri: undefined }] }, 'found none'],
    [{ issuers: [issuer({ algoritms: ['RS256'] })] }, 'issuers[0].algoritms: unknown field'],
    [{ issuers: [issuer({ jwksUri: 'ftp://x' })] }, 'issuers[0].jwksUri'],
    [{ issuers: [issuer({ subject: { lookup: 'phone' } })] }, 'issuers[0].subject.lookup'],
    [
      { issuers: [issuer({ subject: { pattern: '([' } })] },
      'issuers[0].subject.pattern: is not a valid regular expression',
    ],
    [
      { issuers: [issuer({ subject: { lookup: 'id' }, jit: { enabled: true } })] },
      'issuers[0].jit.enabled',
    ],
    [{ issuers: [issuer({ jit: { map: { email: 'password' } } })] }, 'issuers[0].jit.map.email'],
    [{ issuers: [issuer(), issuer()] }, 'issuers[1].issuer: duplicate issuer'],
    [
      { issuers: [issuer({ binding: { mode: 'bearer' } })] },
      'issuers[0].binding.mode: must be one of',
    ],
    [
      { issuers: [issuer({ binding: { enforcement: 'required' } })] },
      'issuers[0].binding.enforcement: required needs a binding mode',
    ],
    [
      { issuers: [issuer({ binding: { mode: 'dpop', dpop: { algorithms: ['HS256'] } } })] },
      'issuers[0].binding.dpop.algorithms[0]: "HS256" is never allowed for DPoP proofs',
    ],
    [
      { issuers: [issuer({ binding: { mode: 'dpop', dpop: { algorithms: ['none'] } } })] },
      'issuers[0].binding.dpop.algorithms[0]: "none" is never allowed',
    ],
    [
      { issuers: [issuer({ binding: { dpop: { proofMaxAgeSeconds: 0 } } })] },
      'issuers[0].binding.dpop.proofMaxAgeSeconds',
    ],
    [
      { issuers: [issuer({ binding: { dpop: { jti: true } } })] },
      'issuers[0].binding.dpop.jti: unknown field',
    ],
    [{ server: { httpPort: 'x' } }, 'server.httpPort'],
    [{ limits: { maxTokenBytes: 10 } }, 'limits.maxTokenBytes'],
    [{ databse: {} }, 'databse: unknown field'],
    [{ authz: { headers: { userId: 'X-User-Id' } } }, 'authz.headers.userId'],
    [{ authz: { headers: { email: 'authorization' } } }, 'authz.headers.email: is a reserved'],
    [{ authz: { headers: { tenant: 'x-user-id' } } }, 'authz.headers.tenant: same header'],
    [{ authz: { assertion: { enabled: true } } }, 'authz.assertion.audience: required'],
    [{ authz: { assertion: { ttlSeconds: 0 } } }, 'authz.assertion.ttlSeconds'],
    [{ authz: { assertion: { keyFile: '/nonexistent/key.pem' } } }, 'authz.assertion.keyFile'],
    [{ authz: { reasonHeadr: 'x' } }, 'authz.reasonHeadr: unknown field'],
  ])('refuses %j naming the field', (raw, message) => {
    expect(failure(() => build(raw))).toContain(message);
  });

  it('defaults the gateway answers: five identity headers, no reason header, no assertion', () => {
    const { authz } = build({ server: { domain: 'corp-resolver' } });
    expect(authz).toEqual({
      headers: {
        userId: 'x-user-id',
        email: 'x-user-email',
        tenant: 'x-tenant-id',
        roles: 'x-user-roles',
        kind: 'x-principal-kind',
      },
      exposeReasonHeader: false,
      reasonHeader: 'x-auth-reason',
      assertion: {
        enabled: false,
        header: 'x-identity-assertion',
        issuer: 'urn:corp-resolver',
        audience: '',
        ttlSeconds: 60,
        keyFile: undefined,
      },
    });
  });

  it('names bad environment overrides', () => {
    expect(failure(() => build({}, { HTTP_PORT: 'eighty' }))).toContain('HTTP_PORT');
    expect(failure(() => build({}, { DATABASE_URL: 'mysql://x' }))).toContain('DATABASE_URL');
    // Unparsable, host-less or empty: a config error naming it, not ten seconds of retries.
    for (const url of ['postgres://u:p@[bad/db', 'postgres:///db', '', '  ']) {
      expect(failure(() => build({}, { DATABASE_URL: url }))).toMatch(/^DATABASE_URL: /);
    }
    expect(failure(() => build({}, { DATABASE_URL: 'postgres://u:s3cret@[bad/db' }))).not.toContain(
      's3cret',
    );
    // A Unix socket directory in the query is a host.
    expect(build({}, { DATABASE_URL: 'postgres:///db?host=/run/postgresql' }).mode).toBe(
      'external',
    );
    expect(failure(() => build({}, { MIGRATIONS_RUN: 'maybe' }))).toContain('MIGRATIONS_RUN');
  });

  it('reads HMAC secrets from env or file and refuses short ones', async () => {
    const hmac = (extra: Record<string, unknown>) => ({
      ...issuer(),
      jwksUri: undefined,
      algorithms: ['HS256'],
      ...extra,
    });
    const long = 'x'.repeat(32);
    expect(
      build({ issuers: [hmac({ hmacSecretEnv: 'S' })] }, { S: long }).issuers[0]?.keySource.kind,
    ).toBe('hmac');
    expect(
      failure(() => build({ issuers: [hmac({ hmacSecretEnv: 'S' })] }, { S: 'short' })),
    ).toContain('issuers[0].hmacSecretEnv: HMAC secret is 5 bytes; at least 32');
    expect(failure(() => build({ issuers: [hmac({ hmacSecretEnv: 'MISSING' })] }))).toContain(
      'MISSING is not set',
    );
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    await writeFile(join(dir, 'secret'), `${long}\n`);
    const fromFile = buildConfig(
      { issuers: [hmac({ hmacSecretFile: 'secret' })] },
      {},
      { source: 'f', baseDir: dir },
    );
    const source = fromFile.issuers[0]?.keySource;
    expect(source?.kind === 'hmac' && source.secret.length).toBe(32);
  });

  it('refuses an HMAC secret of 31 bytes (also multi-byte characters count as bytes) and accepts 32', () => {
    const hmac = { ...issuer(), jwksUri: undefined, algorithms: ['HS256'], hmacSecretEnv: 'S' };
    expect(failure(() => build({ issuers: [hmac] }, { S: 'y'.repeat(31) }))).toContain(
      'issuers[0].hmacSecretEnv: HMAC secret is 31 bytes; at least 32',
    );
    expect(build({ issuers: [hmac] }, { S: 'é'.repeat(16) }).issuers[0]?.keySource.kind).toBe(
      'hmac',
    );
    expect(failure(() => build({ issuers: [hmac] }, { S: '' }))).toContain('S is not set');
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s for every kind of issuer', (alg) => {
    for (const source of [
      { jwksUri: 'https://idp.example/jwks' },
      { discovery: true, jwksUri: undefined },
      { hmacSecretEnv: 'S', jwksUri: undefined },
    ]) {
      expect(
        failure(() =>
          build({ issuers: [issuer({ ...source, algorithms: [alg] })] }, { S: 'z'.repeat(32) }),
        ),
      ).toContain('issuers[0].algorithms[0]: "none" is never allowed');
    }
  });

  it.each([
    [{ jwksUri: 'https://idp.example/jwks' }, 'HS256'],
    [{ discovery: true, jwksUri: undefined }, 'HS384'],
    [{ keys: ['/dev/null'], jwksUri: undefined }, 'HS512'],
  ])('refuses HS* for an asymmetric issuer (%j, %s): key confusion', (source, alg) => {
    expect(
      failure(() => build({ issuers: [issuer({ ...source, algorithms: ['RS256', alg] })] })),
    ).toContain(`issuers[0].algorithms[1]: ${alg} is an HMAC algorithm and is never allowed`);
  });

  it('refuses asymmetric algorithms for an HMAC issuer', () => {
    expect(
      failure(() =>
        build(
          {
            issuers: [
              issuer({ jwksUri: undefined, hmacSecretEnv: 'S', algorithms: ['HS256', 'RS256'] }),
            ],
          },
          { S: 'z'.repeat(32) },
        ),
      ),
    ).toContain('issuers[0].algorithms[1]: RS256 needs an asymmetric key source');
  });

  it('defaults the JWKS policy, with a 24 h stale-if-error bound, and checks it', () => {
    expect(build({ issuers: [issuer()] }).issuers[0]?.jwks).toEqual({
      timeoutMs: 2000,
      cooldownMs: 30000,
      cacheMaxAgeMs: 600000,
      maxStaleMs: 86_400_000,
    });
    expect(
      build({ issuers: [issuer({ jwks: { maxStaleMs: 3_600_000 } })] }).issuers[0]?.jwks.maxStaleMs,
    ).toBe(3_600_000);
    expect(
      failure(() =>
        build({ issuers: [issuer({ jwks: { cacheMaxAgeMs: 60_000, maxStaleMs: 1_000 } })] }),
      ),
    ).toContain('issuers[0].jwks.maxStaleMs: must be at least jwks.cacheMaxAgeMs (60000)');
    expect(failure(() => build({ issuers: [issuer({ jwks: { maxStaleMs: 0 } })] }))).toContain(
      'issuers[0].jwks.maxStaleMs',
    );
    expect(failure(() => build({ issuers: [issuer({ jwks: { maxStale: 1 } })] }))).toContain(
      'issuers[0].jwks.maxStale: unknown field',
    );
  });

  it('configures typ, the RFC 9068 profile and a maximum token age', () => {
    const [plain, typed, profile] = build({
      issuers: [
        issuer(),
        issuer({ issuer: 'https://b/', typ: 'at+jwt', maxTokenAgeSeconds: 3600 }),
        issuer({ issuer: 'https://c/', rfc9068: true }),
      ],
    }).issuers;
    expect(plain).toMatchObject({ typ: undefined, maxTokenAgeSeconds: undefined });
    expect(typed).toMatchObject({ typ: 'at+jwt', maxTokenAgeSeconds: 3600 });
    expect(profile?.typ).toBe('at+jwt');
    expect([...(profile?.requiredClaims ?? [])].sort()).toEqual(
      ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti'].sort(),
    );
    expect(failure(() => build({ issuers: [issuer({ rfc9068: true, typ: 'JWT' })] }))).toContain(
      'issuers[0].typ: rfc9068 access tokens have typ at+jwt',
    );
    expect(failure(() => build({ issuers: [issuer({ maxTokenAgeSeconds: 0 })] }))).toContain(
      'issuers[0].maxTokenAgeSeconds',
    );
    expect(failure(() => build({ issuers: [issuer({ typ: 'at jwt' })] }))).toContain(
      'issuers[0].typ',
    );
  });

  it('loads YAML from RESOLVER_CONFIG and reports unreadable or invalid files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const path = join(dir, 'resolver.yaml');
    await writeFile(
      path,
      'server:\n  httpPort: 9999\nissuers:\n  - issuer: https://a/\n    discovery: true\n    audiences: [x]\n    algorithms: [ES256]\n',
    );
    const config = loadConfig({ RESOLVER_CONFIG: path });
    expect(config.http.port).toBe(9999);
    expect(config.issuers[0]?.keySource).toEqual({ kind: 'discovery' });
    expect(failure(() => loadConfig({ RESOLVER_CONFIG: join(dir, 'nope.yaml') }))).toContain(
      'RESOLVER_CONFIG: cannot read',
    );
    await writeFile(path, 'server: [unclosed');
    expect(failure(() => loadConfig({ RESOLVER_CONFIG: path }))).toContain('not valid YAML');
  });
});

describe('scim config', () => {
  const hash = 'a'.repeat(64);
  const client = (extra: Record<string, unknown> = {}) => ({
    id: 'okta',
    tokenSha256: hash,
    issuer: 'https://idp.example/',
    ...extra,
  });
  it('is off with no clients; a client keeps only the credential hash and its issuer policy', () => {
    expect(build({}).scim.clients).toEqual([]);
    const [c] = build({ issuers: [issuer()], scim: { clients: [client()] } }).scim.clients;
    expect(c).toMatchObject({ id: 'okta', tenant: '', subjectAttribute: 'externalId' });
    expect(Buffer.from(c?.tokenSha256 ?? []).toString('hex')).toBe(hash);
    const [e] = build(
      {
        issuers: [issuer()],
        scim: { clients: [client({ tokenSha256: undefined, tokenEnv: 'SCIM_T' })] },
      },
      { SCIM_T: 'a-long-enough-scim-credential-value' },
    ).scim.clients;
    expect(e?.tokenSha256).toHaveLength(32);
  });
  it('takes a public base URL for Location and meta.location, as the URL parser writes it', () => {
    expect(build({}).scim.publicBaseUrl).toBeUndefined();
    expect(
      build({ scim: { publicBaseUrl: 'https://Resolver.Example.com:443/scim/v2/' } }).scim
        .publicBaseUrl,
    ).toBe('https://resolver.example.com/scim/v2');
  });
  it.each([
    [
      { clients: [client({ tokenSha256: 'nothex' })] },
      'scim.clients[0].tokenSha256: must be the 64-hex-digit sha256',
    ],
    [
      { clients: [client({ tokenEnv: 'X' })] },
      'scim.clients[0]: set exactly one of tokenSha256 or tokenEnv',
    ],
    [
      { clients: [client({ issuer: 'https://other/' })] },
      'scim.clients[0].issuer: no issuer "https://other/"',
    ],
    [
      { clients: [client({ subjectAttribute: 'mail' })] },
      'scim.clients[0].subjectAttribute: must be externalId, userName',
    ],
    [
      { clients: [client(), client({ id: 'two' })] },
      'scim.clients[1].tenant: another client already provisions',
    ],
    [{ clients: [client({ groupRole: {} })] }, 'scim.clients[0].groupRole: unknown field'],
    [
      { clients: [client({ tokenSha256: undefined, tokenEnv: 'UNSET' })] },
      'scim.clients[0].tokenEnv: environment variable UNSET is not set',
    ],
  ])('names the field: %j', (scim, message) => {
    expect(failure(() => build({ issuers: [issuer()], scim }))).toContain(message);
  });
  it.each([
    'javascript://evil.example/scim/v2',
    'ftp://resolver.example.com/scim/v2',
    'resolver.example.com/scim/v2',
    '/scim/v2',
    'https://user:pw@resolver.example.com/scim/v2',
    'https://resolver.example.com/scim/v2?x=1',
    'https://resolver.example.com/scim/v2#x',
    42,
  ])('refuses publicBaseUrl %j, naming the field', (publicBaseUrl) => {
    expect(failure(() => build({ scim: { publicBaseUrl } }))).toContain(
      'scim.publicBaseUrl: must be an absolute http(s) URL',
    );
  });
});
