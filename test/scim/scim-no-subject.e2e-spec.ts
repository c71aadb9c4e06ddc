import { ADMIN_TOKEN, ENTRA_ISS, ENTRA_TOKEN, ScimFixture, within } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Users without the client's subject attribute (externalId, optional by RFC 7643 §3.1): stored
 * without a link, unreachable by any token until a PUT or PATCH gives them one, and diagnose
 * says exactly that.
 */
describe('SCIM Users without externalId (no subject yet)', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_no_subject');
  });
  afterAll(async () => {
    await f?.close();
  });

  const entra = (method: string, path: string, body?: unknown) =>
    f.scim(method, path, body, {}, ENTRA_TOKEN);
  const diagnose = async (token: string) => {
    const res = await f.app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return res.body.steps.find((s: { step: string }) => s.step === 'user');
  };

  it('is accepted, reaches no token, is explained by diagnose, and links once externalId arrives', async () => {
    const created = await entra('POST', '/Users', {
      schemas: [USER],
      userName: 'nosub@contoso.com',
      emails: [{ value: 'nosub@contoso.com', primary: true }],
    });
    expect(created.status).toBe(201);
    expect(created.body.externalId).toBeUndefined();
    const id = created.body.id as string;
    // A second one in the same client: no subject means no link to collide on.
    expect(
      (await entra('POST', '/Users', { schemas: [USER], userName: 'nosub2@contoso.com' })).status,
    ).toBe(201);

    const t = await f.token(ENTRA_ISS, {
      oid: 'oid-nosub',
      tid: 'tenant-1',
      email: 'nosub@contoso.com',
    });
    expect((await f.app.resolveHttp({ token: t })).body.reason).toBe('USER_NOT_FOUND');
    const step = await diagnose(t);
    expect(step.status).toBe('fail');
    const miss = step.details.nearMisses.find((m: { kind: string }) => m.kind === 'unlinked');
    expect(miss.user.id).toBe(id);
    expect(miss.finding).toMatch(
      /provisioned by SCIM client entra with no subject yet \(no externalId\)/,
    );
    expect(step.fix).toMatch(/the IdP must send the user's externalId = "oid-nosub"/);
    // One finding for the user, not also an "email without a link" near miss.
    expect(
      step.details.nearMisses.filter((m: { user: { id: string } }) => m.user.id === id),
    ).toHaveLength(1);

    // The userName alone (a token whose subject is the userName) finds it too.
    const byName = await diagnose(
      await f.token(ENTRA_ISS, { oid: 'NOSUB2@contoso.com', tid: 'tenant-1' }),
    );
    expect(byName.details.nearMisses.map((m: { kind: string }) => m.kind)).toEqual(['unlinked']);

    const linked = await entra('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'externalId', value: 'oid-nosub' }],
    });
    expect(linked.status).toBe(200);
    expect(linked.body.externalId).toBe('oid-nosub');
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.status === 200 && r.body.principal?.id === id,
    );
  });

  it('a PUT that adds externalId links; a linked user cannot lose it (400 mutability), by PATCH or PUT', async () => {
    const created = await entra('POST', '/Users', {
      schemas: [USER],
      userName: 'later@contoso.com',
    });
    const id = created.body.id as string;
    const put = await entra('PUT', `/Users/${id}`, {
      schemas: [USER],
      userName: 'later@contoso.com',
      externalId: 'oid-later',
    });
    expect(put.status).toBe(200);
    const t = await f.token(ENTRA_ISS, { oid: 'oid-later', tid: 'tenant-1' });
    await within(
      1000,
      () => f.app.resolveHttp({ token: t }),
      (r) => r.body.principal?.id === id,
    );

    const removed = await entra('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: 'externalId' }],
    });
    expect(removed.status).toBe(400);
    expect(removed.body).toMatchObject({ scimType: 'mutability' });
    expect(removed.body.detail).toMatch(/^externalId:/);
    const omitted = await entra('PUT', `/Users/${id}`, {
      schemas: [USER],
      userName: 'later@contoso.com',
    });
    expect(omitted.status).toBe(400);
    expect(omitted.body.scimType).toBe('mutability');
    // Nothing changed: same version, same externalId, the token still resolves.
    const after = await entra('GET', `/Users/${id}`);
    expect(after.body).toMatchObject({
      externalId: 'oid-later',
      meta: { version: put.body.meta.version },
    });
    expect((await f.app.resolveHttp({ token: t })).body.principal?.id).toBe(id);
  });
});
