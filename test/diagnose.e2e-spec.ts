import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { SubjectCaches } from '@resolver/resolution';
import { createTestDatabase, sqlPool } from './support/database';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, makeKey, TokenFactory } from './support/token-factory';
import { DiagnoseGrpcClient } from './support/diagnose-grpc-client';

const run = promisify(execFile);
const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';
const AUD = 'api://diagnose';
const ISS = 'https://diagnose.idp.test';
const OTHER_ISS = 'https://other.idp.test';
const TENANT_ISS = 'https://tenants.diagnose.test';
const JIT_ISS = 'https://jit.diagnose.test';

/**
 * DiagnoseSubject over HTTP (every cause), gRPC and the CLI. Each scenario asserts the failing
 * step, its suggested fix and the verdict, and that the diagnosis changed nothing: row counts,
 * updated_at, cache sizes and resolution/cache metrics.
 */
describe('diagnose: why was this token refused?', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let off: ResolverHarness;
  let db: Pool;
  let grpc: DiagnoseGrpcClient;
  const ids: Record<string, string> = {};
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (overrides: Record<string, unknown>, issuer = ISS) =>
    keys.sign(claimsFor(issuer, AUD, now(), overrides));

  /** Everything a diagnosis must not change. */
  const snapshot = async () => {
    const { rows } = await db.query(`SELECT
      (SELECT count(*) FROM users) AS users,
      (SELECT count(*) FROM external_identities) AS identities,
      (SELECT count(*) FROM revoked_tokens) AS revoked,
      (SELECT string_agg(id || '@' || updated_at::text, ',' ORDER BY id) FROM users) AS updated`);
    const metrics = ((await app.http('/metrics')).body as string)
      .split('\n')
      .filter((l) =>
        /^resolver_(resolutions_total|cache_requests_total|jit_provisioning_total)/.test(l),
      )
      .join('\n');
    return { db: rows[0], caches: app.resolver.app.get(SubjectCaches).sizes(), metrics };
  };

  const diagnose = async (token: unknown) => {
    const before = await snapshot();
    const res = await app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(200);
    expect(await snapshot()).toEqual(before);
    expect(res.body.steps.map((s: any) => s.step)).toEqual([
      'decode',
      'issuer',
      'key',
      'signature',
      'time',
      'claims',
      'revocation',
      'subject',
      'tenant',
      'store',
      'user',
      'jit',
      'cache',
      'verdict',
    ]);
    // The signature segment is never echoed back.
    if (typeof token === 'string' && token.split('.')[2])
      expect(JSON.stringify(res.body)).not.toContain(token.split('.')[2]);
    const step = (name: string) => res.body.steps.find((s: any) => s.step === name);
    const failing = res.body.steps.filter((s: any) => s.status === 'fail').map((s: any) => s.step);
    return { body: res.body, verdict: res.body.verdict.reason as string, step, failing };
  };

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('diagnose');
    const jwksUri = idp.publishJwks('d', keys.publicJwks());
    const databaseUrl = await createTestDatabase('diagnose');
    db = sqlPool(databaseUrl);
    const base = { jwksUri, audiences: [AUD], algorithms: ['RS256', 'ES256'] };
    const issuers = [
      { ...base, issuer: ISS },
      { ...base, issuer: OTHER_ISS },
      { ...base, issuer: TENANT_ISS, tenant: { claim: 'tid' } },
      {
        ...base,
        issuer: JIT_ISS,
        jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
      },
    ];
    app = await ResolverHarness.start({ databaseUrl, issuers, env: { ADMIN_TOKEN } });
    off = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('diagnose_off'),
      issuers,
    });
    grpc = new DiagnoseGrpcClient(app.resolver.grpcAddress);

    const user = async (name: string, fields: Record<string, unknown> = {}) => {
      const { rows } = await db.query(
        `INSERT INTO users (tenant, email, username, status, deleted_at, provenance)
         VALUES ($1, $2, $3, $4, $5, 'admin') RETURNING id`,
        [
          fields.tenant ?? '',
          fields.email ?? `${name}@example.com`,
          fields.username ?? name,
          fields.status ?? 'active',
          fields.deletedAt ?? null,
        ],
      );
      ids[name] = rows[0].id;
      return rows[0].id as string;
    };
    const link = (userId: string, issuer: string, subject: string, tenant = '') =>
      db.query(
        'INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)',
        [issuer, tenant, subject, userId],
      );
    await link(await user('alice'), ISS, 'alice');
    await link(await user('casey'), ISS, 'Casey');
    await user('columbo');
    await link(await user('dora', { deletedAt: new Date() }), ISS, 'dora');
    await link(await user('dis', { status: 'disabled' }), ISS, 'dis');
    await link(await user('acme', { tenant: 'acme' }), TENANT_ISS, 'ten-user', 'acme');
    await link(await user('stale'), ISS, 'stale');
    await link(await user('otto'), OTHER_ISS, 'otto');
    await user('eve');

    // Caches are used only once the listener is up and the deny-list loaded.
    const caches = app.resolver.app.get(SubjectCaches);
    const deadline = Date.now() + 10_000;
    while (!caches.coherent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(caches.coherent).toBe(true);
  });

  afterAll(async () => {
    grpc?.close();
    await app?.close();
    await off?.close();
    await db?.end();
    await idp?.stop();
  });

  it('requires the admin credential, and does not exist without one', async () => {
    const token = await sign({ sub: 'alice' });
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}`]) {
      const res = await app.http('/v1/diagnose', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(401);
    }
    const absent = await off.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(absent.status).toBe(404);
    expect(await grpc.diagnose(token, 'wrong')).toMatchObject({ ok: false, code: 16 });
    const offGrpc = new DiagnoseGrpcClient(off.resolver.grpcAddress);
    expect(await offGrpc.diagnose(token, ADMIN_TOKEN)).toMatchObject({ ok: false, code: 12 });
    offGrpc.close();
  });

  it('passes every step for a good token, and resolution agrees', async () => {
    const token = await sign({ sub: 'alice', jti: 'j-ok' });
    const d = await diagnose(token);
    expect(d.failing).toEqual([]);
    expect(d.verdict).toBe('OK');
    expect(d.step('decode').details.payload.sub).toBe('alice');
    expect(d.step('decode').details.times.exp).toMatch(/in 9 minutes|in 10 minutes/);
    expect(d.step('key').details.matchedKeyId).toBe('diagnose-rsa');
    expect(d.step('store').finding).toMatch(/reachable, [\d.]+ ms/);
    expect(d.step('user').details.user.id).toBe(ids.alice);
    expect((await app.resolveHttp({ token })).status).toBe(200);
  });

  it('missing sub: the subject step fails and names the claim', async () => {
    const d = await diagnose(await sign({ sub: undefined }));
    expect(d.verdict).toBe('SUBJECT_MISSING');
    expect(d.failing).toEqual(['subject', 'verdict']);
    expect(d.step('signature').status).toBe('pass');
    expect(d.step('subject').fix).toContain('"sub"');
  });

  it('empty sub: SUBJECT_MISSING from the mapper, lookup skipped', async () => {
    const d = await diagnose(await sign({ sub: '' }));
    expect(d.verdict).toBe('SUBJECT_MISSING');
    expect(d.failing).toEqual(['subject', 'verdict']);
    expect(d.step('subject').finding).toContain('empty');
    expect(d.step('user').status).toBe('skip');
  });

  it('wrong case: a near miss differing only in letter case, fix names normalisation', async () => {
    const d = await diagnose(await sign({ sub: 'casey' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.failing).toEqual(['user', 'jit', 'verdict']);
    expect(d.step('user').details.nearMisses[0]).toMatchObject({ kind: 'case' });
    expect(d.step('user').finding).toContain('"Casey"');
    expect(d.step('user').fix).toContain('normalize.lowercase');
  });

  it('wrong lookup column: the subject is a user id, the issuer looks up external identities', async () => {
    const d = await diagnose(await sign({ sub: ids.columbo }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.step('user').details.nearMisses[0]).toMatchObject({
      kind: 'column',
      user: { id: ids.columbo },
    });
    expect(d.step('user').fix).toContain('subject.lookup: id');
  });

  it('same subject under another issuer and a user with the token email but no link', async () => {
    const d = await diagnose(await sign({ sub: 'otto', email: 'eve@example.com' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    const kinds = d.step('user').details.nearMisses.map((m: any) => m.kind);
    expect(kinds).toEqual(['issuer', 'column', 'email']);
    expect(d.step('user').fix).toContain(OTHER_ISS);
    expect(d.step('user').details.nearMisses[2].fix).toContain(
      `identities link ${ids.eve} --issuer ${ISS} --subject otto`,
    );
  });

  it('unknown issuer: fails before any key is fetched', async () => {
    const d = await diagnose(await sign({ sub: 'alice' }, 'https://nobody.idp.test'));
    expect(d.verdict).toBe('ISSUER_UNKNOWN');
    expect(d.failing).toEqual(['issuer', 'verdict']);
    expect(d.step('issuer').fix).toContain('https://nobody.idp.test');
    expect(d.step('key').status).toBe('skip');
    expect(d.step('decode').details.payload.sub).toBe('alice');
  });

  it('wrong audience: the claims step fails, the signature still passed', async () => {
    const d = await diagnose(await sign({ sub: 'alice', aud: 'api://elsewhere' }));
    expect(d.verdict).toBe('AUDIENCE_MISMATCH');
    expect(d.failing).toEqual(['claims', 'verdict']);
    expect(d.step('signature').status).toBe('pass');
    expect(d.step('claims').fix).toContain(AUD);
    // Later steps still say something, from claims flagged as unverified.
    expect(d.step('user')).toMatchObject({ status: 'pass', unverified: true });
  });

  it('expired: the time step fails with human-readable times and says to refresh', async () => {
    const d = await diagnose(await sign({ sub: 'alice', iat: now() - 7200, exp: now() - 3600 }));
    expect(d.verdict).toBe('TOKEN_EXPIRED');
    expect(d.failing).toEqual(['time', 'verdict']);
    expect(d.step('time').finding).toContain('exp 1 hour ago');
    expect(d.step('time').fix).toContain('new token');
    expect(d.step('decode').details.times.iat).toContain('2 hours ago');
  });

  it('user deleted: USER_DELETED with a restore fix', async () => {
    const d = await diagnose(await sign({ sub: 'dora' }));
    expect(d.verdict).toBe('USER_DELETED');
    expect(d.failing).toEqual(['user', 'verdict']);
    expect(d.step('user').fix).toContain(`users restore ${ids.dora}`);
  });

  it('user disabled: USER_DISABLED with an enable fix', async () => {
    const d = await diagnose(await sign({ sub: 'dis' }));
    expect(d.verdict).toBe('USER_DISABLED');
    expect(d.failing).toEqual(['user', 'verdict']);
    expect(d.step('user').fix).toContain(`users enable ${ids.dis}`);
  });

  it('user never synced, JIT off: USER_NOT_FOUND, create it or enable JIT', async () => {
    const d = await diagnose(await sign({ sub: 'ghost' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.failing).toEqual(['user', 'jit', 'verdict']);
    expect(d.step('user').details.nearMisses).toEqual([]);
    expect(d.step('user').fix).toContain(`--link ${ISS}=ghost`);
    expect(d.step('jit').fix).toContain('jit.enabled: true');
  });

  it('user never synced, JIT on: would provision (but does not), or names the missing claim', async () => {
    const ok = await diagnose(await sign({ sub: 'newbie', email: 'newbie@example.com' }, JIT_ISS));
    expect(ok.verdict).toBe('OK');
    expect(ok.body.verdict.source).toBe('PROVISIONED');
    expect(ok.step('jit').status).toBe('pass');
    expect(ok.step('jit').details.wouldCreate).toMatchObject({ email: 'newbie@example.com' });
    expect(ok.step('user').status).toBe('fail');

    const rejected = await diagnose(await sign({ sub: 'newbie' }, JIT_ISS));
    expect(rejected.verdict).toBe('PROVISIONING_REJECTED');
    expect(rejected.failing).toEqual(['user', 'jit', 'verdict']);
    expect(rejected.step('jit').finding).toContain('JIT requires claim "email"');
    expect(rejected.step('jit').fix).toContain('email');
  });

  it('JIT on, but a live user already holds the email: the verdict is the refusal resolve gives', async () => {
    await db.query(
      `INSERT INTO users (email, provenance) VALUES ('Taken@Example.com', 'admin') RETURNING id`,
    );
    const token = await sign({ sub: 'conflicted', email: 'taken@example.com' }, JIT_ISS);
    const d = await diagnose(token);
    expect(d.verdict).toBe('PROVISIONING_REJECTED');
    expect(d.step('jit').status).toBe('fail');
    expect(d.step('jit').fix).toContain('cli identities link');
    // What it predicts is what happens, and the dry run left nothing behind.
    const res = await app.resolveHttp({ token });
    expect(res.body.reason).toBe('PROVISIONING_REJECTED');
  });

  it('tenant missing: the tenant step fails and names the claim', async () => {
    const d = await diagnose(await sign({ sub: 'ten-user' }, TENANT_ISS));
    expect(d.verdict).toBe('TENANT_MISSING');
    expect(d.failing).toEqual(['tenant', 'verdict']);
    expect(d.step('subject').status).toBe('pass');
    expect(d.step('tenant').fix).toContain('"tid"');
  });

  it('tenant mismatch: the same subject lives in another tenant', async () => {
    const d = await diagnose(await sign({ sub: 'ten-user', tid: 'globex' }, TENANT_ISS));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.step('tenant').details).toMatchObject({ tenant: 'globex' });
    expect(d.step('user').details.nearMisses[0]).toMatchObject({ kind: 'tenant' });
    expect(d.step('user').fix).toContain('tenant mismatch');
    expect(d.step('user').fix).toContain('"acme"');
  });

  it('unknown kid: the key step fails and lists the published key ids', async () => {
    const rogue = await makeKey('RS256', 'rogue-kid');
    const d = await diagnose(
      await keys.sign(claimsFor(ISS, AUD, now(), { sub: 'alice' }), { key: rogue }),
    );
    expect(d.verdict).toBe('SIGNING_KEY_NOT_FOUND');
    expect(d.failing).toEqual(['key', 'verdict']);
    expect(d.step('key').finding).toContain('"rogue-kid"');
    expect(d.step('key').finding).toContain('diagnose-rsa');
    expect(d.step('key').fix).toContain('does not publish');
    expect(d.step('signature').status).toBe('skip');
  });

  it('stale cache after a manual DB change that bypassed the change trigger', async () => {
    const token = await sign({ sub: 'stale' });
    expect((await app.resolveHttp({ token })).status).toBe(200); // warms the token and user caches
    // A DBA disables the user with triggers off (session_replication_role = replica): no NOTIFY
    // is sent, so the replica's cache keeps the old row. This is the one way a cache can be stale.
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`UPDATE users SET status = 'disabled' WHERE id = $1`, [ids.stale]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const d = await diagnose(token);
    expect(d.step('cache').status).toBe('fail');
    expect(d.step('cache').finding).toContain('status active (cache) vs disabled (store)');
    expect(d.step('cache').fix).toContain('flush');
    expect(d.step('user').status).toBe('fail'); // the store's truth
    // What ResolveSubject answers now: from the (stale) cache.
    expect(d.verdict).toBe('OK');
    expect(d.body.verdict.source).toBe('CACHE');
    expect((await app.resolveHttp({ token })).status).toBe(200);
  });

  it('over gRPC: same report, details as JSON', async () => {
    const result = await grpc.diagnose(await sign({ sub: 'dis' }), ADMIN_TOKEN);
    if (!result.ok) throw new Error(`gRPC failed: ${result.message}`);
    const r = result.response;
    expect(r.verdict).toBe('USER_DISABLED');
    expect(r.outcome).toBe('refused');
    expect(r.httpStatus).toBe(403);
    expect(r.steps).toHaveLength(14);
    const user = r.steps.find((s: any) => s.step === 'user');
    expect(user).toMatchObject({ status: 'fail' });
    expect(user.fix).toContain(`users enable ${ids.dis}`);
    expect(JSON.parse(user.detailsJson).user.id).toBe(ids.dis);
  });

  describe('CLI', () => {
    const env = () => ({ PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: app.url });
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: env() });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const cliStdin = (input: string, ...args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: env() });
        let stdout = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.on('close', (code) => resolve({ code, stdout }));
        child.stdin.end(input);
      });

    it('prints JSON when piped and exits 1 for a refused token', async () => {
      const token = await sign({ sub: 'alice', aud: 'api://elsewhere' });
      const out = await cli('diagnose', token);
      expect(out.code).toBe(1);
      const report = JSON.parse(out.stdout);
      expect(report.verdict.reason).toBe('AUDIENCE_MISMATCH');
      expect(report.steps.find((s: any) => s.step === 'claims').fix).toContain(AUD);
    });

    it('reads the token from stdin, prints a table with --table, exits 0 when OK', async () => {
      const token = await sign({ sub: 'alice' });
      const out = await cliStdin(`${token}\n`, 'diagnose', '-', '--table');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^ #\s+step\s+status\s+finding/);
      expect(out.stdout).toMatch(/14 {2}Verdict\s+PASS/);
      expect(out.stdout).toContain('verdict: OK');
      expect(out.stdout).not.toContain('\x1b['); // no colour: not a terminal
      expect(out.stdout).not.toContain(token.split('.')[2]);

      const refused = await cliStdin(await sign({ sub: 'dora' }), 'diagnose', '-', '--table');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/User\s+FAIL\s+USER_DELETED/);
      expect(refused.stdout).toContain(`fix: user ${ids.dora} was deleted`);
    });

    it('needs a token argument and the admin credential', async () => {
      expect((await cli('diagnose')).code).toBe(2);
      const noCred = await run(process.execPath, [CLI, 'diagnose', 'x.y.z'], {
        env: { PATH: process.env.PATH, RESOLVER_URL: app.url },
      }).catch((e) => e);
      expect(noCred.code).toBe(1);
      expect(noCred.stderr).toContain('ADMIN_TOKEN');
    });
  });
});
