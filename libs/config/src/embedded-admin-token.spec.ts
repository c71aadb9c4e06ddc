import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminOffReason,
  ensureEmbeddedAdminToken,
  needsEmbeddedAdminToken,
  readEmbeddedAdminToken,
} from './embedded-admin-token';

describe('embedded admin credential', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'admin-token-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('is generated once (0600, 32 random bytes) and read back by the CLI', async () => {
    expect(await readEmbeddedAdminToken(dir)).toBeUndefined();
    const first = await ensureEmbeddedAdminToken(join(dir, 'data'));
    expect(first.from.file).toBe(join(dir, 'data', 'admin-token'));
    expect((await stat(first.from.file)).mode & 0o777).toBe(0o600);
    const text = Buffer.from(first.token).toString();
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await readFile(first.from.file, 'utf8')).toBe(`${text}\n`);
    const again = await ensureEmbeddedAdminToken(join(dir, 'data'));
    expect(Buffer.from(again.token).toString()).toBe(text);
    expect(Buffer.from((await readEmbeddedAdminToken(join(dir, 'data')))!.token).toString()).toBe(
      text,
    );
  });

  it('tightens a loosened file mode', async () => {
    await writeFile(join(dir, 'admin-token'), 'x'.repeat(30));
    await chmod(join(dir, 'admin-token'), 0o644);
    await ensureEmbeddedAdminToken(dir);
    expect((await stat(join(dir, 'admin-token'))).mode & 0o777).toBe(0o600);
  });

  it('is only for embedded mode without a configured credential, and not when disabled', () => {
    const token = { token: new Uint8Array(24), from: { env: 'ADMIN_TOKEN' } };
    expect(needsEmbeddedAdminToken({ mode: 'embedded', adminEnabled: true })).toBe(true);
    expect(needsEmbeddedAdminToken({ mode: 'embedded', admin: token, adminEnabled: true })).toBe(
      false,
    );
    expect(needsEmbeddedAdminToken({ mode: 'embedded', adminEnabled: false })).toBe(false);
    expect(needsEmbeddedAdminToken({ mode: 'external', adminEnabled: true })).toBe(false);
  });

  it('says why the admin API is off and how to turn it on', () => {
    expect(adminOffReason({ mode: 'external', adminEnabled: true, source: 'r.yaml' })).toContain(
      'start the resolver with ADMIN_TOKEN',
    );
    expect(adminOffReason({ mode: 'external', adminEnabled: false, source: 'r.yaml' })).toContain(
      'admin.enabled: false in r.yaml',
    );
    expect(
      adminOffReason({
        mode: 'external',
        admin: { token: new Uint8Array(), from: { env: 'ADMIN_TOKEN' } },
        source: 'r.yaml',
      }),
    ).toBeUndefined();
  });
});
