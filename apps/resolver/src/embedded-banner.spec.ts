import type { AdminCredentialSource } from '@resolver/config';
import { embeddedBanner } from './embedded-banner';

const SECRET = 'the-credential-itself-never-printed';
const banner = (from: AdminCredentialSource | undefined, adminEnabled = true) =>
  embeddedBanner({
    httpUrl: 'http://127.0.0.1:20000',
    grpcAddress: '127.0.0.1:20001',
    devIssuer: 'http://127.0.0.1:20000/dev',
    config: {
      mode: 'embedded',
      source: 'defaults',
      adminEnabled,
      embedded: { dataDir: '/work/.data', port: 54329 },
      admin: from && { token: new Uint8Array(Buffer.from(SECRET)), from },
    },
  });

describe('embedded banner', () => {
  // Every way the credential can be configured: the same admin commands, each with how to pass it.
  it.each<[string, AdminCredentialSource, string, string]>([
    [
      'generated',
      { file: '/work/.data/admin-token', named: 'generated' },
      'npm run -s cli -- ',
      '$(cat /work/.data/admin-token)',
    ],
    ['ADMIN_TOKEN', { env: 'ADMIN_TOKEN' }, 'npm run -s cli -- ', '$ADMIN_TOKEN'],
    [
      'admin.tokenEnv',
      { env: 'OPS_TOKEN' },
      'ADMIN_TOKEN="$OPS_TOKEN" npm run -s cli -- ',
      '$OPS_TOKEN',
    ],
    [
      'ADMIN_TOKEN_FILE',
      { file: '/run/secrets/admin', named: 'ADMIN_TOKEN_FILE' },
      'ADMIN_TOKEN_FILE=/run/secrets/admin npm run -s cli -- ',
      '$(cat /run/secrets/admin)',
    ],
    [
      'admin.tokenFile',
      { file: '/etc/resolver/admin', named: 'admin.tokenFile' },
      'ADMIN_TOKEN_FILE=/etc/resolver/admin npm run -s cli -- ',
      '$(cat /etc/resolver/admin)',
    ],
  ])(
    'with the credential from %s, shows diagnose and the admin commands',
    (_, from, cli, bearer) => {
      const text = banner(from);
      expect(text).toContain(`\n    ${cli}users list\n`);
      expect(text).toContain(`\n    ${cli}diagnose "$TOKEN"\n`);
      expect(text).toContain(
        `curl -s http://127.0.0.1:20000/admin/v1/users -H "Authorization: Bearer ${bearer}"`,
      );
      expect(text).toContain('npm run -s cli -- resolve "$TOKEN" --grpc');
      expect(text).not.toContain(SECRET);
      expect(text).not.toMatch(/undefined|\[object Object\]/);
    },
  );

  it('names the variable the other terminal needs', () => {
    expect(banner({ env: 'ADMIN_TOKEN' })).toContain(
      'Admin:       on, with the credential in ADMIN_TOKEN (set it to the same value in the other terminal)',
    );
  });

  it('with admin off, says why and shows no admin command', () => {
    const text = banner(undefined, false);
    expect(text).toContain('Admin:       off (the admin API is disabled by admin.enabled: false');
    expect(text).not.toContain('users list');
    expect(text).not.toContain('/admin/v1');
    expect(text).toContain('npm run -s cli -- resolve "$TOKEN" --grpc');
  });
});
