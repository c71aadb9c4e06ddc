import {
  AUD,
  diagnoseWorld,
  ISS,
  JIT_ISS,
  now,
  OTHER_ISS,
  TENANT_ISS,
} from './support/diagnose-world';
import { claimsFor, makeKey } from './support/token-factory';

/**
 * DiagnoseSubject over HTTP, one scenario per cause. Each asserts the failing step, its suggested
 * fix and the verdict, and (through the world's diagnose()) that the diagnosis changed nothing:
 * row counts, updated_at, cache sizes and resolution/cache metrics. Who may ask, gRPC and the CLI
 * are in diagnose-surfaces.e2e-spec.ts; the world is test/support/diagnose-world.ts.
 */
describe('diagnose: why was this token refused?', () => {
  const w = diagnoseWorld('diagnose');

  it('passes every step for a good token, and resolution agrees', async () => {
    const token = await w.sign({ sub: 'alice', jti: 'j-ok' });
    const d = await w.diagnose(token);
    expect(d.failing).toEqual([]);
    expect(d.verdict).toBe('OK');
    expect(d.step('decode').details.payload.sub).toBe('alice');
    expect(d.step('decode').details.times.exp).toMatch(/in 9 minutes|in 10 minutes/);
    expect(d.step('key').details.matchedKeyId).toBe('diagnose-rsa');
    expect(d.step('store').finding).toMatch(/reachable, [\d.]+ ms/);
    expect(d.step('user').details.user.id).toBe(w.ids.alice);
    expect((await w.app.resolveHttp({ token })).status).toBe(200);
  });

  it('missing sub: the subject step fails and names the claim', async () => {
    const d = await w.diagnose(await w.sign({ sub: undefined }));
    expect(d.verdict).toBe('SUBJECT_MISSING');
    expect(d.failing).toEqual(['subject', 'verdict']);
    expect(d.step('signature').status).toBe('pass');
    expect(d.step('subject').fix).toContain('"sub"');
  });

  it('empty sub: SUBJECT_MISSING from the mapper, lookup skipped', async () => {
    const d = await w.diagnose(await w.sign({ sub: '' }));
    expect(d.verdict).toBe('SUBJECT_MISSING');
    expect(d.failing).toEqual(['subject', 'verdict']);
    expect(d.step('subject').finding).toContain('empty');
    expect(d.step('user').status).toBe('skip');
  });

  it('wrong case: a near miss differing only in letter case, fix names normalisation', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'casey' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.failing).toEqual(['user', 'jit', 'verdict']);
    expect(d.step('user').details.nearMisses[0]).toMatchObject({ kind: 'case' });
    expect(d.step('user').finding).toContain('"Casey"');
    expect(d.step('user').fix).toContain('normalize.lowercase');
  });

  it('wrong lookup column: the subject is a user id, the issuer looks up external identities', async () => {
    const d = await w.diagnose(await w.sign({ sub: w.ids.columbo }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.step('user').details.nearMisses[0]).toMatchObject({
      kind: 'column',
      user: { id: w.ids.columbo },
    });
    expect(d.step('user').fix).toContain('subject.lookup: id');
  });

  it('same subject under another issuer and a user with the token email but no link', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'otto', email: 'eve@example.com' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    const kinds = d.step('user').details.nearMisses.map((m: any) => m.kind);
    expect(kinds).toEqual(['issuer', 'column', 'email']);
    expect(d.step('user').fix).toContain(OTHER_ISS);
    expect(d.step('user').details.nearMisses[2].fix).toContain(
      `identities link ${w.ids.eve} --issuer ${ISS} --subject otto`,
    );
  });

  it('unknown issuer: fails before any key is fetched', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'alice' }, 'https://nobody.idp.test'));
    expect(d.verdict).toBe('ISSUER_UNKNOWN');
    expect(d.failing).toEqual(['issuer', 'verdict']);
    expect(d.step('issuer').fix).toContain('https://nobody.idp.test');
    expect(d.step('key').status).toBe('skip');
    expect(d.step('decode').details.payload.sub).toBe('alice');
  });

  it('wrong audience: the claims step fails, the signature still passed', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'alice', aud: 'api://elsewhere' }));
    expect(d.verdict).toBe('AUDIENCE_MISMATCH');
    expect(d.failing).toEqual(['claims', 'verdict']);
    expect(d.step('signature').status).toBe('pass');
    expect(d.step('claims').fix).toContain(AUD);
    // Later steps still say something, from claims flagged as unverified.
    expect(d.step('user')).toMatchObject({ status: 'pass', unverified: true });
  });

  it('expired: the time step fails with human-readable times and says to refresh', async () => {
    const d = await w.diagnose(
      await w.sign({ sub: 'alice', iat: now() - 7200, exp: now() - 3600 }),
    );
    expect(d.verdict).toBe('TOKEN_EXPIRED');
    expect(d.failing).toEqual(['time', 'verdict']);
    expect(d.step('time').finding).toContain('exp 1 hour ago');
    expect(d.step('time').fix).toContain('new token');
    expect(d.step('decode').details.times.iat).toContain('2 hours ago');
  });

  it('user deleted: USER_DELETED with a restore fix', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'dora' }));
    expect(d.verdict).toBe('USER_DELETED');
    expect(d.failing).toEqual(['user', 'verdict']);
    expect(d.step('user').fix).toContain(`users restore ${w.ids.dora}`);
  });

  it('user disabled: USER_DISABLED with an enable fix', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'dis' }));
    expect(d.verdict).toBe('USER_DISABLED');
    expect(d.failing).toEqual(['user', 'verdict']);
    expect(d.step('user').fix).toContain(`users enable ${w.ids.dis}`);
  });

  it('user never synced, JIT off: USER_NOT_FOUND, create it or enable JIT', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'ghost' }));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.failing).toEqual(['user', 'jit', 'verdict']);
    expect(d.step('user').details.nearMisses).toEqual([]);
    expect(d.step('user').fix).toContain(`--link ${ISS}=ghost`);
    expect(d.step('jit').fix).toContain('jit.enabled: true');
  });

  it('user never synced, JIT on: would provision (but does not), or names the missing claim', async () => {
    const ok = await w.diagnose(
      await w.sign({ sub: 'newbie', email: 'newbie@example.com' }, JIT_ISS),
    );
    expect(ok.verdict).toBe('OK');
    expect(ok.body.verdict.source).toBe('PROVISIONED');
    expect(ok.step('jit').status).toBe('pass');
    expect(ok.step('jit').details.wouldCreate).toMatchObject({ email: 'newbie@example.com' });
    expect(ok.step('user').status).toBe('fail');

    const rejected = await w.diagnose(await w.sign({ sub: 'newbie' }, JIT_ISS));
    expect(rejected.verdict).toBe('PROVISIONING_REJECTED');
    expect(rejected.failing).toEqual(['user', 'jit', 'verdict']);
    expect(rejected.step('jit').finding).toContain('JIT requires claim "email"');
    expect(rejected.step('jit').fix).toContain('email');
  });

  it('JIT on, but a live user already holds the email: the verdict is the refusal resolve gives', async () => {
    await w.db.query(
      `INSERT INTO users (email, provenance) VALUES ('Taken@Example.com', 'admin') RETURNING id`,
    );
    const token = await w.sign({ sub: 'conflicted', email: 'taken@example.com' }, JIT_ISS);
    const d = await w.diagnose(token);
    expect(d.verdict).toBe('PROVISIONING_REJECTED');
    expect(d.step('jit').status).toBe('fail');
    expect(d.step('jit').fix).toContain('cli identities link');
    // What it predicts is what happens, and the dry run left nothing behind.
    const res = await w.app.resolveHttp({ token });
    expect(res.body.reason).toBe('PROVISIONING_REJECTED');
  });

  it('tenant missing: the tenant step fails and names the claim', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'ten-user' }, TENANT_ISS));
    expect(d.verdict).toBe('TENANT_MISSING');
    expect(d.failing).toEqual(['tenant', 'verdict']);
    expect(d.step('subject').status).toBe('pass');
    expect(d.step('tenant').fix).toContain('"tid"');
  });

  it('tenant mismatch: the same subject lives in another tenant', async () => {
    const d = await w.diagnose(await w.sign({ sub: 'ten-user', tid: 'globex' }, TENANT_ISS));
    expect(d.verdict).toBe('USER_NOT_FOUND');
    expect(d.step('tenant').details).toMatchObject({ tenant: 'globex' });
    expect(d.step('user').details.nearMisses[0]).toMatchObject({ kind: 'tenant' });
    expect(d.step('user').fix).toContain('tenant mismatch');
    expect(d.step('user').fix).toContain('"acme"');
  });

  it('unknown kid: the key step fails and lists the published key ids', async () => {
    const rogue = await makeKey('RS256', 'rogue-kid');
    const d = await w.diagnose(
      await w.keys.sign(claimsFor(ISS, AUD, now(), { sub: 'alice' }), { key: rogue }),
    );
    expect(d.verdict).toBe('SIGNING_KEY_NOT_FOUND');
    expect(d.failing).toEqual(['key', 'verdict']);
    expect(d.step('key').finding).toContain('"rogue-kid"');
    expect(d.step('key').finding).toContain('diagnose-rsa');
    expect(d.step('key').fix).toContain('does not publish');
    expect(d.step('signature').status).toBe('skip');
  });

  it('stale cache after a manual DB change that bypassed the change trigger', async () => {
    const token = await w.sign({ sub: 'stale' });
    expect((await w.app.resolveHttp({ token })).status).toBe(200); // warms the token and user caches
    // A DBA disables the user with triggers off (session_replication_role = replica): no NOTIFY
    // is sent, so the replica's cache keeps the old row. This is the one way a cache can be stale.
    const client = await w.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`UPDATE users SET status = 'disabled' WHERE id = $1`, [w.ids.stale]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const d = await w.diagnose(token);
    expect(d.step('cache').status).toBe('fail');
    expect(d.step('cache').finding).toContain('status active (cache) vs disabled (store)');
    expect(d.step('cache').fix).toContain('flush');
    expect(d.step('user').status).toBe('fail'); // the store's truth
    // What ResolveSubject answers now: from the (stale) cache.
    expect(d.verdict).toBe('OK');
    expect(d.body.verdict.source).toBe('CACHE');
    expect((await w.app.resolveHttp({ token })).status).toBe(200);
  });
});
