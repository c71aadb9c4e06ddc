import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { ADMIN_TOKEN, canonicalWorld, ISS, resolvedEverywhere } from '../support/canonical-world';
import { seedUser } from '../support/database';

/**
 * Two different subjects never become one user: a subject, email, username, tenant or client id
 * that is not canonical is refused on all four transports, never rewritten into another user,
 * and stored identifiers the rules now refuse are listed with a fix. The world (issuers, seeded
 * users, the four transports) is test/support/canonical-world.ts; the token edges that are not
 * about subjects are in token-edges.e2e-spec.ts.
 */

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const w = canonicalWorld('canonical');

describe('a subject that is not canonical is refused, never rewritten into another user', () => {
  const subjects: [string, string][] = [
    ['U+3000 ideographic space after', 'admin\u3000'],
    ['U+00A0 no-break space before', '\u00a0admin'],
    ['U+00A0 no-break space after', 'admin\u00a0'],
    ['U+FEFF BOM before', '\ufeffadmin'],
    ['U+FEFF BOM after', 'admin\ufeff'],
    ['an ASCII space after (trim is opt-in)', 'admin '],
    ['a tab before', '\tadmin'],
    ['U+2003 em space after', 'admin\u2003'],
    ['U+200B zero-width space inside', 'ad\u200bmin'],
    ['U+2060 word joiner inside', 'ad\u2060min'],
    ['U+00AD soft hyphen inside', 'ad\u00admin'],
    ['U+202E right-to-left override', 'admin\u202e'],
    ['U+2066 left-to-right isolate', '\u2066admin'],
    ['U+2028 line separator', 'ad\u2028min'],
    ['U+212A KELVIN SIGN (NFC would make it "Kelvin")', '\u212Aelvin'],
    ['a combining acute not composed (not NFC)', 'Kelvine\u0301'],
    ['U+FE0F variation selector', 'admin\ufe0f'],
  ];

  it.each(subjects)('external lookup: sub with %s -> SUBJECT_MALFORMED', async (_what, sub) => {
    await w.expectRefused(await w.token(ISS.x, { sub }), 'SUBJECT_MALFORMED');
  });

  it.each([
    ['U+3000 after', 'admin@example.com\u3000'],
    ['U+212A KELVIN SIGN', '\u212Aelvin@example.com'],
    ['U+FEFF before', '\ufeffadmin@example.com'],
  ])('email lookup: email with %s -> SUBJECT_MALFORMED', async (_what, email) => {
    await w.expectRefused(await w.token(ISS.e, { email }), 'SUBJECT_MALFORMED');
  });

  it.each([
    ['U+212A KELVIN SIGN', '\u212Aelvin'],
    ['U+00A0 after', 'admin\u00a0'],
    ['U+200B inside', 'ad\u200bmin'],
  ])('username lookup: username with %s -> SUBJECT_MALFORMED', async (_what, username) => {
    await w.expectRefused(
      await w.token(ISS.u, { preferred_username: username }),
      'SUBJECT_MALFORMED',
    );
  });

  it.each([
    ['U+3000 after', 'acme\u3000'],
    ['U+00A0 before', '\u00a0acme'],
    ['whitespace only', ' '],
    ['U+200B inside', 'ac\u200bme'],
    ['not NFC', 'acme\u0301'],
  ])('tenant claim with %s -> CLAIM_INVALID', async (_what, tid) => {
    await w.expectRefused(await w.token(ISS.t, { sub: 'alice', tid }), 'CLAIM_INVALID');
  });

  it.each([
    ['U+3000 after', 'svc-1\u3000'],
    ['U+FEFF before', '\ufeffsvc-1'],
  ])('service-account client id with %s -> SUBJECT_MALFORMED', async (_what, clientId) => {
    await w.expectRefused(
      await w.token(ISS.x, { sub: 'svc-1', token_use: 'machine', client_id: clientId }),
      'SUBJECT_MALFORMED',
    );
  });

  it('refuses JIT when a mapped identifier claim (email, username) is not canonical', async () => {
    await w.expectRefused(
      await w.token(ISS.x, { sub: 'newcomer', email: 'new@example.com\u3000' }),
      'PROVISIONING_REJECTED',
    );
    await w.expectRefused(
      await w.token(ISS.x, { sub: 'newcomer', preferred_username: '\u212Aelvin' }),
      'PROVISIONING_REJECTED',
    );
  });

  it('controls: the canonical subjects resolve to their own users on every transport', async () => {
    expect(await w.allTransports(await w.token(ISS.x, { sub: 'admin' }))).toEqual(
      resolvedEverywhere(w.ids.admin as string),
    );
    expect(await w.allTransports(await w.token(ISS.x, { sub: 'Kelvin' }))).toEqual(
      resolvedEverywhere(w.ids.kelvin as string),
    );
    expect(await w.allTransports(await w.token(ISS.u, { preferred_username: 'Kelvin' }))).toEqual(
      resolvedEverywhere(w.ids.kelvin as string),
    );
    expect(await w.allTransports(await w.token(ISS.t, { sub: 'alice', tid: 'acme' }))).toEqual(
      resolvedEverywhere(w.ids.alice as string),
    );
  });

  it('the documented folds: ASCII case of emails, ASCII spaces with trim: true', async () => {
    expect(await w.allTransports(await w.token(ISS.e, { email: 'Admin@Example.COM' }))).toEqual(
      resolvedEverywhere(w.ids.admin as string),
    );
    expect(await w.allTransports(await w.token(ISS.w, { sub: '  admin ' }))).toEqual(
      resolvedEverywhere(w.ids.wadmin as string),
    );
    await w.expectRefused(await w.token(ISS.w, { sub: 'admin\u3000' }), 'SUBJECT_MALFORMED');
    // Non-ASCII letters are compared exactly: a different address, not "kelvin@example.com".
    await w.expectRefused(
      await w.token(ISS.e, { email: 'kelv\u00edn@example.com' }),
      'USER_NOT_FOUND',
    );
  });

  it('property: random Unicode subjects on the real app are stored exactly or refused, never a 5xx', async () => {
    const TRICKY = ['\u3000', '\u00a0', '\ufeff', '\u200b', '\u212a', '\u0301', ' ', 'K', 'k'];
    const subject = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      fc
        .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 3 })), { maxLength: 6 })
        .map((p) => `p-${p.join('')}`),
    );
    const owners = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(subject, async (sub) => {
        const raw = await w.token(ISS.x, { sub });
        const http = await w.app.resolveHttp({ token: raw });
        const grpc = await w.app.resolveGrpc({ token: raw });
        expect(http.status === 200 || http.status === 401).toBe(true);
        if (http.status === 401) {
          expect(['SUBJECT_MALFORMED', 'SUBJECT_MISSING']).toContain(http.body.reason);
          expect(grpc).toMatchObject({ ok: false, reason: http.body.reason });
          return;
        }
        expect(grpc).toMatchObject({ ok: true });
        // Stored exactly as sent: the link's subject is the claim, byte for byte.
        const { rows } = await w.db.query<{ subject: string }>(
          `SELECT subject FROM external_identities WHERE user_id = $1 AND issuer = $2`,
          [http.body.principal.id, ISS.x],
        );
        expect(rows.map((r) => r.subject)).toEqual([sub]);
        // Distinct accepted subjects, distinct users.
        const owner = owners.get(http.body.principal.id);
        if (owner !== undefined) expect(owner).toBe(sub);
        owners.set(http.body.principal.id, sub);
      }),
      { numRuns: 150 },
    );
  });

  it('diagnose names the offending code point and its position', async () => {
    const res = await w.app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: await w.token(ISS.x, { sub: 'admin\u3000' }) }),
    });
    const subject = res.body.steps.find((s: { step: string }) => s.step === 'subject');
    expect(subject.status).toBe('fail');
    expect(subject.finding).toContain('SUBJECT_MALFORMED');
    expect(subject.finding).toContain('U+3000 (trailing whitespace) at code point 5');
    expect(res.body.verdict.reason).toBe('SUBJECT_MALFORMED');
  });
});

describe('existing data: stored identifiers the rules now refuse are listed, with a fix', () => {
  it('GET /admin/v1/audit/identifiers and `cli audit` name each one', async () => {
    // Written around the API, as a DBA or an older version could have stored them.
    const legacy = await seedUser(w.db, ISS.x, { subject: 'legacy\u3000', email: null });
    await w.db.query(`UPDATE users SET email = $2, username = $3 WHERE id = $1`, [
      legacy,
      '\u00c5sa@example.com',
      'bob\u00a0',
    ]);
    const res = await w.app.http('/admin/v1/audit/identifiers', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const mine = res.body.findings.filter((f: { userId: string }) => f.userId === legacy);
    expect(mine).toEqual([
      expect.objectContaining({
        table: 'external_identities',
        field: 'subject',
        value: '"legacy\u3000"',
        problem: 'U+3000 (trailing whitespace) at code point 6',
        fix: expect.stringContaining('--subject "legacy"'),
      }),
      expect.objectContaining({
        table: 'users',
        field: 'email',
        problem: expect.stringContaining('non-ASCII capital letters'),
      }),
      expect.objectContaining({
        table: 'users',
        field: 'username',
        problem: 'U+00A0 (trailing whitespace) at code point 3',
        fix: expect.stringContaining(`cli users update ${legacy} --username "bob"`),
      }),
    ]);
    // Canonical rows are not listed.
    expect(res.body.findings.some((f: { userId: string }) => f.userId === w.ids.admin)).toBe(false);
    const cli = await run('node', [CLI, 'audit'], {
      env: { PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: w.app.url },
    });
    expect(JSON.parse(cli.stdout).findings).toHaveLength(res.body.findings.length);
    expect(cli.stderr).toContain('stored identifier(s) need attention');
  });
});
