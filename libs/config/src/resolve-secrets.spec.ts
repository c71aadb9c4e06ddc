import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolverConfigSchema, resolveSecrets } from '.';
import { configFailure as failure } from './testing/config-failure';

const SECRET = 'h'.repeat(32);
const TOKEN = 'an-admin-token-of-24-bytes-or-more';
const hmac = (extra: Record<string, unknown>) => ({
  issuer: 'https://hmac.example/',
  audiences: ['api'],
  algorithms: ['HS256'],
  ...extra,
});
const keys = (paths: string[]) => ({
  issuer: 'https://keys.example/',
  audiences: ['api'],
  algorithms: ['ES256'],
  keys: paths,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  await writeFile(join(dir, 'hmac'), `${SECRET}\r\n`);
  await writeFile(join(dir, 'key.pem'), 'not parsed here');
  await writeFile(join(dir, 'admin-token'), `${TOKEN}\n`);
});

/** Validation, then the secrets step: the two stages `buildConfig` runs. */
const resolveWith = (file: unknown, env: Record<string, string> = {}) =>
  resolveSecrets(resolverConfigSchema.parse({ file, env }), env, {
    source: 'resolver.yaml',
    baseDir: dir,
  });

describe('resolveSecrets', () => {
  it('validation alone reads nothing: secrets and files stay references', () => {
    const validated = resolverConfigSchema.parse({
      file: { issuers: [hmac({ hmacSecretEnv: 'S' })], admin: { tokenFile: '/nonexistent' } },
      env: { S: SECRET },
    });
    expect(validated.issuers[0]?.keySource).toEqual({
      kind: 'hmac',
      secret: { env: 'S', field: 'hmacSecretEnv' },
    });
    expect(validated.admin).toEqual({ file: '/nonexistent', named: 'admin.tokenFile' });
    expect(JSON.stringify(validated)).not.toContain(SECRET);
  });

  it('reads HMAC secrets from the environment or from a file beside the config', () => {
    const [fromEnv, fromFile] = resolveWith(
      {
        issuers: [
          hmac({ hmacSecretEnv: 'S' }),
          hmac({ issuer: 'https://other/', hmacSecretFile: 'hmac' }),
        ],
      },
      { S: SECRET },
    ).issuers;
    for (const issuer of [fromEnv, fromFile]) {
      const source = issuer?.keySource;
      expect(source?.kind === 'hmac' && Buffer.from(source.secret).toString()).toBe(SECRET);
    }
  });

  it('makes key files absolute against the config directory and checks each is readable', () => {
    expect(resolveWith({ issuers: [keys(['key.pem'])] }).issuers[0]?.keySource).toEqual({
      kind: 'files',
      paths: [join(dir, 'key.pem')],
    });
    expect(failure(() => resolveWith({ issuers: [keys(['key.pem', 'missing.pem'])] }))).toMatch(
      /^resolver\.yaml: issuers\[0\]\.keys\[1\]: cannot read .*missing\.pem/,
    );
  });

  it('makes the assertion key file absolute and checks it', () => {
    const assertion = { enabled: true, audience: 'backends', keyFile: 'key.pem' };
    expect(resolveWith({ authz: { assertion } }).authz.assertion.keyFile).toBe(
      join(dir, 'key.pem'),
    );
    expect(
      failure(() => resolveWith({ authz: { assertion: { ...assertion, keyFile: 'nope' } } })),
    ).toContain('resolver.yaml: authz.assertion.keyFile: cannot read');
  });

  it('reads the admin credential: ADMIN_TOKEN_FILE, then admin.tokenFile, then the variable', () => {
    const token = (file: unknown, env: Record<string, string>) =>
      Buffer.from(resolveWith(file, env).admin?.token ?? []).toString();
    expect(token({}, { ADMIN_TOKEN: TOKEN })).toBe(TOKEN);
    expect(token({ admin: { tokenEnv: 'OPS_TOKEN' } }, { OPS_TOKEN: TOKEN })).toBe(TOKEN);
    expect(token({ admin: { tokenFile: 'admin-token' } }, { ADMIN_TOKEN: 'x'.repeat(30) })).toBe(
      TOKEN,
    );
    expect(
      token(
        { admin: { tokenFile: 'missing' } },
        { ADMIN_TOKEN_FILE: join(dir, 'admin-token'), ADMIN_TOKEN: 'x'.repeat(30) },
      ),
    ).toBe(TOKEN);
    expect(resolveWith({}).admin).toBeUndefined();
    expect(resolveWith({}, { ADMIN_TOKEN: '' }).admin).toBeUndefined();
  });

  it('says where the admin credential was read, for messages that tell a client how to pass it', () => {
    const from = (file: unknown, env: Record<string, string>) => resolveWith(file, env).admin?.from;
    expect(from({}, { ADMIN_TOKEN: TOKEN })).toEqual({ env: 'ADMIN_TOKEN' });
    expect(from({ admin: { tokenEnv: 'OPS_TOKEN' } }, { OPS_TOKEN: TOKEN })).toEqual({
      env: 'OPS_TOKEN',
    });
    expect(from({ admin: { tokenFile: 'admin-token' } }, {})).toEqual({
      file: join(dir, 'admin-token'),
      named: 'admin.tokenFile',
    });
    expect(from({}, { ADMIN_TOKEN_FILE: join(dir, 'admin-token') })).toEqual({
      file: join(dir, 'admin-token'),
      named: 'ADMIN_TOKEN_FILE',
    });
  });

  it('keeps admin off when admin.enabled is false, whatever the credential', () => {
    const config = resolveWith({ admin: { enabled: false } }, { ADMIN_TOKEN: TOKEN });
    expect(config.admin).toBeUndefined();
    expect(config.adminEnabled).toBe(false);
  });

  it('names the variable or field of a bad admin credential', () => {
    expect(failure(() => resolveWith({}, { ADMIN_TOKEN: 'short' }))).toBe(
      'ADMIN_TOKEN: the admin token must be at least 24 bytes',
    );
    expect(failure(() => resolveWith({}, { ADMIN_TOKEN_FILE: 'missing' }))).toMatch(
      /^ADMIN_TOKEN_FILE: cannot read /,
    );
    expect(failure(() => resolveWith({ admin: { tokenFile: 'missing' } }))).toMatch(
      /^resolver\.yaml: admin\.tokenFile: cannot read /,
    );
  });

  it('keeps a SCIM credential named by variable only as its sha256, refusing short ones', () => {
    const scim = (tokenEnv: string) => ({
      issuers: [hmac({ hmacSecretEnv: 'S' })],
      scim: { clients: [{ id: 'okta', tokenEnv, issuer: 'https://hmac.example/' }] },
    });
    const [client] = resolveWith(scim('SCIM_T'), { S: SECRET, SCIM_T: TOKEN }).scim.clients;
    expect(Buffer.from(client?.tokenSha256 ?? []).toString('hex')).toBe(
      createHash('sha256').update(TOKEN).digest('hex'),
    );
    expect(client).not.toHaveProperty('credential');
    expect(failure(() => resolveWith(scim('SCIM_T'), { S: SECRET, SCIM_T: 'short' }))).toBe(
      'resolver.yaml: scim.clients[0].tokenEnv: the SCIM credential must be at least 24 bytes',
    );
  });

  it('reports every unreadable or missing secret at once', () => {
    const message = failure(() =>
      resolveWith(
        {
          issuers: [hmac({ hmacSecretEnv: 'UNSET' }), keys(['missing.pem'])],
          admin: { tokenFile: 'missing' },
        },
        {},
      ),
    );
    expect(message).toContain('issuers[0].hmacSecretEnv: environment variable UNSET is not set');
    expect(message).toContain('issuers[1].keys[0]: cannot read');
    expect(message).toContain('admin.tokenFile: cannot read');
  });
});
