import type { Pool } from 'pg';
import { SCIM_CONSTRAINT_ATTRIBUTES } from '@resolver/identity';
import { ADMIN_CONSTRAINT_FIELDS } from '@resolver/provisioning';
import { ADMIN_TOKEN } from './scim-fixture';
import { IsolationFixture, ISS, PATCH_SCHEMA, scimUser } from './isolation-fixture';

/**
 * Issue #22, finding 3: SCIM clients of different issuers in the same tenant ('') share no
 * uniqueness namespace, so one can neither observe (a 409) nor block (a squatted address)
 * another issuer's users; finding 9: adoption never hands a client another issuer's user, and a
 * SCIM userName obeys the canonical-identifier rules. Real Postgres, real HTTP, as an IdP's
 * connector sends its requests.
 */
describe('SCIM isolation between issuers (real Postgres)', () => {
  let f: IsolationFixture;
  let db: Pool;
  beforeAll(async () => {
    f = await IsolationFixture.start('scim_isolation');
    db = f.sql();
  });
  afterAll(async () => {
    await db?.end();
    await f?.close();
  });

  const namespaceOf = async (id: string) =>
    (await db.query<{ namespace: string }>('SELECT namespace FROM users WHERE id = $1', [id]))
      .rows[0]?.namespace;

  it("client B never sees client A's userName or email: both create it, each issuer resolves its own", async () => {
    const a = await f.scim('a', 'POST', '/Users', scimUser('shared@corp.test', 'a-shared'));
    const b = await f.scim('b', 'POST', '/Users', scimUser('shared@corp.test', 'b-shared'));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(await namespaceOf(a.body.id)).toBe(ISS.a);
    expect(await namespaceOf(b.body.id)).toBe(ISS.b);
    // Each issuer's email tokens find that issuer's user, never the other's.
    const byA = await f.resolve(ISS.a, { email: 'shared@corp.test' });
    const byB = await f.resolve(ISS.b, { email: 'SHARED@corp.test' });
    expect(byA.body.principal?.id).toBe(a.body.id);
    expect(byB.body.principal?.id).toBe(b.body.id);
    // ...and B's list shows only B's user.
    const list = await f.scim(
      'b',
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "shared@corp.test"')}`,
    );
    expect(list.body.Resources.map((r: { id: string }) => r.id)).toEqual([b.body.id]);
  });

  it("client A cannot squat an address: B's user still signs in (JIT) and B's SCIM create still works", async () => {
    for (const userName of ['victim1@corp.test', 'victim2@corp.test', 'victim3@corp.test']) {
      const squat = await f.scim('a', 'POST', '/Users', scimUser(userName, `a-${userName}`));
      expect(squat.status).toBe(201);
    }
    // B's user signs in first: JIT provisions in B's namespace (no PROVISIONING_REJECTED).
    const jit = await f.resolve(ISS.b, {
      email: 'victim1@corp.test',
      preferred_username: 'victim1@corp.test',
    });
    expect(jit.status).toBe(200);
    expect(jit.body.source).toBe('PROVISIONED');
    expect(await namespaceOf(jit.body.principal.id)).toBe(ISS.b);
    // Issuer C looks users up by subject: its JIT user with the squatted email is provisioned too.
    const viaC = await f.resolve(ISS.c, { sub: 'c-victim3', email: 'victim3@corp.test' });
    expect(viaC.body.source).toBe('PROVISIONED');
    // B's connector pushes the other one: created, not 409.
    const created = await f.scim('b', 'POST', '/Users', scimUser('victim2@corp.test', 'b-v2'));
    expect(created.status).toBe(201);
    // Renaming onto A's address is no conflict either (PATCH and PUT).
    const renamed = await f.scim('b', 'PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'userName', value: 'victim3@corp.test' }],
    });
    expect(renamed.status).toBe(200);
  });

  it("diagnose names a user that sits in another issuer's namespace as a near miss", async () => {
    const a = await f.scim('a', 'POST', '/Users', scimUser('a-only@corp.test', 'a-only'));
    expect(a.status).toBe(201);
    const res = await f.app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: await f.token(ISS.b, { email: 'a-only@corp.test' }) }),
    });
    const user = res.body.steps.find((s: { step: string }) => s.step === 'user');
    expect(user.details.nearMisses).toEqual([
      expect.objectContaining({
        kind: 'namespace',
        finding: expect.stringContaining(`in the namespace of ${ISS.a}`),
      }),
    ]);
  });

  it('a conflict inside one issuer is 409 uniqueness naming the attribute: userName or emails', async () => {
    const first = await f.scim('a', 'POST', '/Users', {
      ...scimUser('dup-name', 'a-dup-1'),
      emails: [{ primary: true, value: 'dup-one@corp.test' }],
    });
    expect(first.status).toBe(201);
    const sameName = await f.scim('a', 'POST', '/Users', {
      ...scimUser('dup-name', 'a-dup-2'),
      emails: [{ primary: true, value: 'dup-two@corp.test' }],
    });
    expect(sameName.status).toBe(409);
    expect(sameName.body).toMatchObject({ scimType: 'uniqueness' });
    expect(sameName.body.detail).toMatch(/^userName: /);
    const sameEmail = await f.scim('a', 'POST', '/Users', {
      ...scimUser('dup-other', 'a-dup-3'),
      emails: [{ primary: true, value: 'DUP-ONE@corp.test' }],
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.detail).toMatch(/^emails: /);
  });

  it("an operator's user keeps its address in every namespace; every issuer's email tokens reach it", async () => {
    const op = await f.admin('POST', '/users', { email: 'op@corp.test', username: 'op' });
    expect(op.status).toBe(201);
    expect(op.body.namespace).toBe('');
    // A connector cannot make a second principal with the operator's address...
    const scim = await f.scim('a', 'POST', '/Users', scimUser('op@corp.test', 'a-op'));
    expect(scim.status).toBe(409);
    expect(scim.body.detail).toMatch(/^(emails|userName): /);
    // ...nor JIT (the old rule for an operator's unlinked user: link it instead).
    const jit = await f.resolve(ISS.c, { sub: 'c-op', email: 'op@corp.test' });
    expect(jit.body.reason).toBe('PROVISIONING_REJECTED');
    // Every issuer's email lookups fall back to the operator's users.
    for (const issuer of [ISS.a, ISS.b])
      expect((await f.resolve(issuer, { email: 'op@corp.test' })).body.principal?.id).toBe(
        op.body.id,
      );
    // The operator, in turn, is told (409 naming the field) when an issuer's user holds one.
    const clash = await f.admin('POST', '/users', { email: 'shared@corp.test' });
    expect(clash.status).toBe(409);
    expect(clash.body.field).toBe('email');
  });

  it('concurrent writers of one address, operator and connector, never both win', async () => {
    for (let i = 0; i < 10; i++) {
      const email = `race${i}@corp.test`;
      const [op, scim, jit] = await Promise.all([
        f.admin('POST', '/users', { email }),
        f.scim('a', 'POST', '/Users', scimUser(email, `a-race-${i}`)),
        f.resolve(ISS.c, { sub: `c-race-${i}`, email }),
      ]);
      const { rows } = await db.query<{ namespace: string }>(
        `SELECT namespace FROM users WHERE email = $1 AND deleted_at IS NULL`,
        [email],
      );
      // Either the operator's user alone, or the issuers' users (one each) without it.
      if (op.status === 201) {
        expect([scim.status, jit.body.reason]).toEqual([409, 'PROVISIONING_REJECTED']);
        expect(rows).toEqual([{ namespace: '' }]);
      } else {
        expect(op.status).toBe(409);
        expect(rows.map((r) => r.namespace)).not.toContain('');
        expect(rows.length).toBe(Number(scim.status === 201) + Number(jit.status === 200));
      }
    }
  });

  it('every unique index and uniqueness trigger on the tables SCIM and admin write names its attribute', async () => {
    const { rows } = await db.query<{ name: string; tbl: string }>(
      `SELECT indexname AS name, tablename AS tbl FROM pg_indexes
       WHERE schemaname = 'public' AND indexdef LIKE 'CREATE UNIQUE%'
         AND tablename IN ('users', 'external_identities', 'scim_users', 'scim_groups', 'scim_group_members')
       UNION ALL
       SELECT m[1], 'users' FROM pg_proc p, regexp_matches(p.prosrc, 'CONSTRAINT = ''([a-z_]+)''', 'g') m
       WHERE p.proname = 'users_operator_identifiers'`,
    );
    expect(rows.length).toBeGreaterThan(8);
    for (const { name, tbl } of rows) {
      expect([name, SCIM_CONSTRAINT_ATTRIBUTES[name]]).toEqual([name, expect.any(String)]);
      if (tbl === 'users' || tbl === 'external_identities')
        expect([name, ADMIN_CONSTRAINT_FIELDS[name]]).toEqual([name, expect.any(String)]);
    }
  });

  describe('adoption keeps to its own issuer (finding 9)', () => {
    it("refuses (409) a JIT user that another issuer's identity is also linked to, and changes nothing", async () => {
      const jit = await f.resolve(ISS.c, { sub: 'c-shared-person', email: 'person@corp.test' });
      expect(jit.body.source).toBe('PROVISIONED');
      const id = jit.body.principal.id as string;
      // The operator links issuer A's identity of the same person to that user.
      const link = await f.admin('POST', `/users/${id}/identities`, {
        issuer: ISS.a,
        subject: 'a-person',
      });
      expect(link.status).toBe(201);
      const adopt = await f.scim(
        'c',
        'POST',
        '/Users',
        scimUser('person@corp.test', 'c-shared-person'),
      );
      expect(adopt.status).toBe(409);
      expect(adopt.body.scimType).toBe('uniqueness');
      expect(adopt.body.detail).toMatch(/^externalId: .*another issuer/);
      const after = await f.admin('GET', `/users/${id}`);
      expect(after.body).toMatchObject({ provenance: 'jit', namespace: ISS.c });
      const identities = await f.admin('GET', `/users/${id}/identities`);
      expect(identities.body.identities.map((i: { issuer: string }) => i.issuer).sort()).toEqual(
        [ISS.a, ISS.c].sort(),
      );
    });

    it("refuses a user whose identifiers live in another issuer's namespace", async () => {
      // Issuer A's JIT user (A looks up by email: no link of its own)...
      const jit = await f.resolve(ISS.a, { email: 'a-jit@corp.test' });
      expect(jit.body.source).toBe('PROVISIONED');
      // ...that an operator then links to issuer C's subject.
      const id = jit.body.principal.id as string;
      await f.admin('POST', `/users/${id}/identities`, { issuer: ISS.c, subject: 'c-a-jit' });
      const adopt = await f.scim('c', 'POST', '/Users', scimUser('a-jit@corp.test', 'c-a-jit'));
      expect(adopt.status).toBe(409);
      expect(await namespaceOf(id)).toBe(ISS.a);
    });

    it("adopts a user linked only in its own scope, moving it into its issuer's namespace", async () => {
      const jit = await f.resolve(ISS.c, { sub: 'c-own', email: 'own@corp.test' });
      const adopt = await f.scim('c', 'POST', '/Users', scimUser('own@corp.test', 'c-own'));
      expect(adopt.status).toBe(201);
      expect(adopt.body.id).toBe(jit.body.principal.id);
      expect(await f.admin('GET', `/users/${adopt.body.id}`)).toMatchObject({
        body: { provenance: 'scim', namespace: ISS.c },
      });
    });
  });

  describe('userName obeys the canonical-identifier rules (finding 9)', () => {
    it.each([
      ['U+3000 at the end', 'wide\u3000', 'U+3000 (trailing whitespace)'],
      ['an RLO override', 'ab\u202Ecd', 'U+202E'],
      ['a zero-width joiner', 'zw\u200Dj', 'U+200D'],
      ['KELVIN SIGN', '\u212Aelvin', 'U+212A'],
      ['a leading space', ' lead', 'U+0020 (leading whitespace)'],
      ['a decomposed é', 'cafe\u0301', 'U+0301'],
    ])(
      '%s: 400 invalidValue naming userName and the code point, on POST, PUT and PATCH',
      async (_n, userName, cp) => {
        const tag = cp.slice(2, 6);
        const post = await f.scim('a', 'POST', '/Users', {
          ...scimUser(userName, `a-bad-${tag}`),
          emails: [{ primary: true, value: 'bad@corp.test' }],
        });
        expect(post.status).toBe(400);
        expect(post.body.scimType).toBe('invalidValue');
        expect(post.body.detail).toContain(`userName: not canonical: ${cp}`);

        const ok = await f.scim(
          'a',
          'POST',
          '/Users',
          scimUser(`ok-${tag}@corp.test`, `a-ok-${tag}`),
        );
        expect(ok.status).toBe(201);
        const put = await f.scim('a', 'PUT', `/Users/${ok.body.id}`, {
          ...scimUser(userName, `a-ok-${tag}`),
          emails: [],
        });
        expect(put.status).toBe(400);
        expect(put.body.detail).toContain('userName: not canonical');
        const patch = await f.scim('a', 'PATCH', `/Users/${ok.body.id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'userName', value: userName }],
        });
        expect(patch.status).toBe(400);
        expect(patch.body.detail).toContain('userName: not canonical');
        // Nothing of it was stored.
        const { rows } = await db.query('SELECT 1 FROM users WHERE username = $1', [userName]);
        expect(rows).toEqual([]);
      },
    );
  });
});
