import {
  ADMIN_TOKEN,
  ENTRA_ISS,
  ENTRA_TOKEN,
  OKTA_ISS,
  oktaUser,
  ScimFixture,
  within,
} from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The refusals of the Users endpoints, one by one, are in scim-users-refusals.e2e-spec.ts. */
describe('SCIM Users (Okta and Entra ID request sequences)', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_users');
  });
  afterAll(async () => {
    await f?.close();
  });

  it('Okta: create, find by userName, resolve a token, deactivate, reactivate, delete', async () => {
    const created = await f.scim('POST', '/Users', oktaUser('okta.one@example.com', '00u1okta'));
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const id = created.body.id as string;
    expect(created.headers.get('location')).toMatch(new RegExp(`/scim/v2/Users/${id}$`));
    expect(created.headers.get('etag')).toBe(created.body.meta.version);
    expect(created.body).toMatchObject({
      userName: 'okta.one@example.com',
      externalId: '00u1okta',
      active: true,
      name: { givenName: 'Test', familyName: 'User' },
      meta: { resourceType: 'User' },
    });
    expect(created.body.password).toBeUndefined();

    // Okta checks for an existing user first: GET /Users?filter=userName eq "..."
    const found = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "OKTA.ONE@example.com"')}&startIndex=1&count=100`,
    );
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(found.body.Resources[0].id).toBe(id);

    // The issuer's token resolves at once, without JIT, with provenance scim.
    const t = await f.token(OKTA_ISS, { sub: '00u1okta' });
    const ok = await f.app.resolveHttp({ token: t });
    expect(ok.status).toBe(200);
    expect(ok.body.principal).toMatchObject({
      id,
      email: 'okta.one@example.com',
      username: 'okta.one@example.com',
    });
    const provenance = await f.app.http(`/admin/v1/users/${id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(provenance.body.provenance).toBe('scim');

    // Okta deactivates with PATCH replace and a value object.
    const off = await f.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.reason === 'USER_DISABLED',
    );

    const on = await f.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(on.body.active).toBe(true);
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.status === 200,
    );

    // Okta's PUT replaces the whole user.
    const put = await f.scim('PUT', `/Users/${id}`, {
      ...oktaUser('okta.one@example.com', '00u1okta'),
      name: { givenName: 'Renamed', familyName: 'User' },
      displayName: 'Renamed User',
    });
    expect(put.status).toBe(200);
    expect(put.body.name.givenName).toBe('Renamed');
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.principal?.displayName === 'Renamed User',
    );

    const del = await f.scim('DELETE', `/Users/${id}`);
    expect(del.status).toBe(204);
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.reason === 'USER_DELETED',
    );
    expect((await f.scim('GET', `/Users/${id}`)).status).toBe(404);
    // The userName is free again after a delete.
    const again = await f.scim('POST', '/Users', oktaUser('okta.one@example.com', '00u1okta'));
    expect(again.status).toBe(201);
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.principal?.id === again.body.id,
    );
  });

  it('Entra ID: enterprise extension stored, "False" as a string, mixed-case op, path filters', async () => {
    // Entra ID's provisioning test body (learn.microsoft.com, "Tutorial: Develop a sample SCIM endpoint").
    const body = {
      schemas: [USER, ENTERPRISE],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee@contoso.com',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENTERPRISE]: {
        employeeNumber: '701984',
        department: 'Tour Operations',
        manager: { value: 'mgr-1' },
      },
    };
    const created = await f.scim('POST', '/Users', body, {}, ENTRA_TOKEN);
    expect(created.status).toBe(201);
    expect(created.body[ENTERPRISE]).toEqual(body[ENTERPRISE]);
    const id = created.body.id as string;
    const t = await f.token(ENTRA_ISS, { sub: 'pairwise', oid: body.externalId, tid: 'tenant-1' });
    expect((await f.app.resolveHttp({ token: t })).status).toBe(200);

    const patched = await f.scim(
      'PATCH',
      `/Users/${id}`,
      {
        schemas: [PATCH],
        Operations: [
          { op: 'Replace', path: 'active', value: 'False' },
          { op: 'Add', path: 'emails[type eq "work"].value', value: 'updated@testuser.com' },
          { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Sales' },
          { op: 'Add', path: 'nickName', value: 'Babs' },
          // Entra ID sends the manager as its id.
          { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'mgr-2' },
          { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'Seattle' },
          { op: 'Replace', value: { 'phoneNumbers[type eq "work"].value': '+1 555 0199' } },
        ],
      },
      {},
      ENTRA_TOKEN,
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      active: false,
      nickName: 'Babs',
      emails: [{ type: 'work', value: 'updated@testuser.com' }],
      addresses: [{ type: 'work', locality: 'Seattle' }],
      phoneNumbers: [{ type: 'work', value: '+1 555 0199' }],
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '701984', manager: { value: 'mgr-2' } },
    });
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.reason === 'USER_DISABLED',
    );

    // Entra ID queries by the attribute it matches on.
    const q = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "${body.externalId}"`)}`,
      undefined,
      {},
      ENTRA_TOKEN,
    );
    expect(q.body.totalResults).toBe(1);
    // Another client does not see it.
    const other = await f.scim('GET', `/Users/${id}`);
    expect(other.status).toBe(404);
    const otherList = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "${body.externalId}"`)}`,
    );
    expect(otherList.body.totalResults).toBe(0);
  });

  it('diagnose names the SCIM client that has not pushed a missing user', async () => {
    const t = await f.token(ENTRA_ISS, { oid: 'never-pushed', tid: 'tenant-1' });
    expect((await f.app.resolveHttp({ token: t })).body.reason).toBe('USER_NOT_FOUND');
    const diagnosis = await f.app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: t }),
    });
    const userStep = diagnosis.body.steps.find((s: { step: string }) => s.step === 'user');
    expect(userStep.fix).toMatch(
      /SCIM client entra provisions this issuer and tenant but has not pushed a user whose externalId is "never-pushed"/,
    );
  });

  it('ETags: If-Match with a stale version is 412; the current one or * succeeds', async () => {
    const created = await f.scim('POST', '/Users', oktaUser('etag@example.com', '00uetag'));
    const id = created.body.id as string;
    const v1 = created.headers.get('etag') as string;
    const p = { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Boss' }] };
    const first = await f.scim('PATCH', `/Users/${id}`, p, { 'if-match': v1 });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).not.toBe(v1);
    const stale = await f.scim('PATCH', `/Users/${id}`, p, { 'if-match': v1 });
    expect(stale.status).toBe(412);
    expect(stale.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect((await f.scim('DELETE', `/Users/${id}`, undefined, { 'if-match': v1 })).status).toBe(
      412,
    );
    expect(
      (
        await f.scim('PUT', `/Users/${id}`, oktaUser('etag@example.com', '00uetag'), {
          'if-match': '*',
        })
      ).status,
    ).toBe(200);
    const cur = await f.scim('GET', `/Users/${id}`);
    expect(
      (
        await f.scim('GET', `/Users/${id}`, undefined, {
          'if-none-match': cur.headers.get('etag') as string,
        })
      ).status,
    ).toBe(304);
  });

  it('two concurrent creates of one userName leave one user; the other is 409 uniqueness', async () => {
    const [a, b] = await Promise.all([
      f.scim('POST', '/Users', oktaUser('race@example.com', '00urace1')),
      f.scim('POST', '/Users', oktaUser('race@example.com', '00urace2')),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    const list = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "race@example.com"')}`,
    );
    expect(list.body.totalResults).toBe(1);
  });

  it('a user JIT created before SCIM is adopted (same id, provenance scim), not duplicated', async () => {
    const t = await f.token(OKTA_ISS, { sub: '00ujit', email: 'jit@example.com' });
    const jit = await f.app.resolveHttp({ token: t });
    expect(jit.body.source).toBe('PROVISIONED');
    const created = await f.scim('POST', '/Users', oktaUser('jit@example.com', '00ujit'));
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(jit.body.principal.id);
    const admin = await f.app.http(`/admin/v1/users/${created.body.id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.body).toMatchObject({ provenance: 'scim', username: 'jit@example.com' });
    // Once SCIM owns it, a second create for the same subject is a conflict.
    const again = await f.scim('POST', '/Users', oktaUser('jit2@example.com', '00ujit'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ scimType: 'uniqueness' });
    expect(again.body.detail).toMatch(/^externalId:/);
    // ... and nothing of it was written: the userName is not taken.
    const list = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "jit2@example.com"')}`,
    );
    expect(list.body.totalResults).toBe(0);
  });

  it('a PUT that does not mention active keeps the status; application/scim+json with a charset parses', async () => {
    const created = await f.scim('POST', '/Users', {
      ...oktaUser('keep@example.com', '00ukeep'),
      active: false,
    });
    expect(created.body.active).toBe(false);
    const { active: _omit, ...withoutActive } = oktaUser('keep@example.com', '00ukeep');
    const put = await f.scim('PUT', `/Users/${created.body.id}`, withoutActive, {
      'content-type': 'application/scim+json; charset=utf-8',
    });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
  });

  it('PATCH that breaks the schema is refused and changes nothing (one transaction)', async () => {
    const created = await f.scim('POST', '/Users', oktaUser('atomic@example.com', '00uatomic'));
    const id = created.body.id as string;
    const res = await f.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'title', value: 'Changed' },
        { op: 'replace', path: 'active', value: 'not-a-boolean' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const after = await f.scim('GET', `/Users/${id}`);
    expect(after.body.title).toBeUndefined();
    expect(after.body.meta.version).toBe(created.body.meta.version);
  });

  it('counts requests by client, operation and result', async () => {
    const metrics = await f.app.http('/metrics');
    expect(metrics.body).toMatch(
      /resolver_scim_requests_total\{client="okta",operation="users.create",result="ok"\} \d+/,
    );
    expect(metrics.body).toMatch(
      /resolver_scim_requests_total\{client="okta",operation="users.create",result="uniqueness"\} \d+/,
    );
  });
});
