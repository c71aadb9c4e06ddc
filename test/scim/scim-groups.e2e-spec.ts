import { ENTRA_ISS, ENTRA_TOKEN, OKTA_ISS, ScimFixture, within } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('SCIM Groups, role mapping and discovery', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_groups');
  });
  afterAll(async () => {
    await f?.close();
  });

  const user = async (name: string, credential?: string) => {
    const res = await f.scim(
      'POST',
      '/Users',
      { schemas: [USER], userName: name, externalId: `ext-${name}` },
      {},
      credential,
    );
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const roles = async (issuer: string, claims: Record<string, unknown>) => {
    const t = await f.token(issuer, claims);
    return (await f.app.resolveHttp({ token: t })).body.principal?.roles as string[] | undefined;
  };

  it('Okta group push: create, add members, rename, remove by filter path, delete; roles follow', async () => {
    const alice = await user('alice@example.com');
    const bob = await user('bob@example.com');
    const created = await f.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [],
    });
    expect(created.status).toBe(201);
    const gid = created.body.id as string;
    expect(created.headers.get('location')).toMatch(new RegExp(`/scim/v2/Groups/${gid}$`));

    const add = await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [
        {
          op: 'add',
          path: 'members',
          value: [{ value: alice, display: 'alice@example.com' }, { value: bob }],
        },
      ],
    });
    expect(add.status).toBe(200);
    expect(add.body.members.map((m: { value: string }) => m.value).sort()).toEqual(
      [alice, bob].sort(),
    );
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-alice@example.com' }),
      (r) => r?.join() === 'engineer',
    );
    const asUser = await f.scim('GET', `/Users/${alice}`);
    expect(asUser.body.groups).toEqual([
      expect.objectContaining({ value: gid, display: 'Engineering' }),
    ]);

    // Okta removes a member with a filter path.
    const removed = await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${bob}"]` }],
    });
    expect(removed.body.members.map((m: { value: string }) => m.value)).toEqual([alice]);
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-bob@example.com' }),
      (r) => r?.length === 0,
    );

    // A rename re-maps: "Admins" -> admin.
    const renamed = await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: gid, displayName: 'Admins' } }],
    });
    expect(renamed.body.displayName).toBe('Admins');
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-alice@example.com' }),
      (r) => r?.join() === 'admin',
    );

    // PUT replaces the member list.
    const put = await f.scim('PUT', `/Groups/${gid}`, {
      schemas: [GROUP],
      displayName: 'Admins',
      members: [{ value: bob }],
    });
    expect(put.body.members.map((m: { value: string }) => m.value)).toEqual([bob]);
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-alice@example.com' }),
      (r) => r?.length === 0,
    );

    // PATCH replace of the whole member list, then remove of all members.
    const replaced = await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'members', value: [{ value: alice }] }],
    });
    expect(replaced.body.members.map((m: { value: string }) => m.value)).toEqual([alice]);
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-alice@example.com' }),
      (r) => r?.join() === 'admin',
    );
    const emptied = await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: 'members' }],
    });
    expect(emptied.body.members).toEqual([]);
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-alice@example.com' }),
      (r) => r?.length === 0,
    );
    await f.scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: bob }] }],
    });

    expect((await f.scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await f.scim('GET', `/Groups/${gid}`)).status).toBe(404);
    await within(
      1000,
      () => roles(OKTA_ISS, { sub: 'ext-bob@example.com' }),
      (r) => r?.length === 0,
    );
  });

  it('Entra ID: create with externalId, find by displayName without members, Add/Remove by value', async () => {
    const carol = await user('carol@contoso.com', ENTRA_TOKEN);
    const created = await f.scim(
      'POST',
      '/Groups',
      {
        schemas: [GROUP],
        externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
        displayName: 'displayName',
        meta: { resourceType: 'Group' },
      },
      {},
      ENTRA_TOKEN,
    );
    expect(created.status).toBe(201);
    const gid = created.body.id as string;
    const found = await f.scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "displayName"')}`,
      undefined,
      {},
      ENTRA_TOKEN,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toEqual(
      expect.not.objectContaining({ members: expect.anything() }),
    );
    expect(found.body.Resources[0].id).toBe(gid);

    const add = await f.scim(
      'PATCH',
      `/Groups/${gid}`,
      { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: carol }] }] },
      {},
      ENTRA_TOKEN,
    );
    expect(add.status).toBe(200);
    const byMember = await f.scim(
      'GET',
      `/Groups?filter=${encodeURIComponent(`members[value eq "${carol}"]`)}`,
      undefined,
      {},
      ENTRA_TOKEN,
    );
    expect(byMember.body.totalResults).toBe(1);
    const remove = await f.scim(
      'PATCH',
      `/Groups/${gid}`,
      {
        schemas: [PATCH],
        Operations: [{ op: 'Remove', path: 'members', value: [{ value: carol }] }],
      },
      {},
      ENTRA_TOKEN,
    );
    expect(remove.body.members).toEqual([]);
    // The Okta client does not see Entra's group.
    expect((await f.scim('GET', `/Groups/${gid}`)).status).toBe(404);
    expect(await roles(ENTRA_ISS, { oid: 'ext-carol@contoso.com', tid: 'tenant-1' })).toEqual([]);
  });

  it.each([
    [
      'nested group',
      (id: string) => ({
        schemas: [GROUP],
        displayName: 'Nested',
        members: [{ value: id, type: 'Group' }],
      }),
      'invalidValue',
    ],
    [
      'unknown member',
      () => ({
        schemas: [GROUP],
        displayName: 'Ghosts',
        members: [{ value: '00000000-0000-4000-8000-000000000000' }],
      }),
      'invalidValue',
    ],
    ['no displayName', () => ({ schemas: [GROUP] }), 'invalidValue'],
    [
      'unknown attribute',
      () => ({ schemas: [GROUP], displayName: 'X', colour: 'red' }),
      'invalidSyntax',
    ],
  ])('%s is a 400 %s', async (_n, body, scimType) => {
    const res = await f.scim('POST', '/Groups', body('00000000-0000-4000-8000-000000000001'));
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe(scimType);
  });

  it('a duplicate displayName is 409 uniqueness; a member of another client is refused', async () => {
    expect((await f.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Dup' })).status).toBe(
      201,
    );
    const dup = await f.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'dup' });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    const foreign = await user('dave@contoso.com', ENTRA_TOKEN);
    const res = await f.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Foreign',
      members: [{ value: foreign }],
    });
    expect(res.body.scimType).toBe('invalidValue');
  });

  it('discovery: ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = await f.scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      etag: { supported: true },
      bulk: { supported: false },
    });
    const types = await f.scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect((await f.scim('GET', '/ResourceTypes/User')).body.schemaExtensions[0].schema).toBe(
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    );
    const schemas = await f.scim('GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(6);
    const user = await f.scim('GET', `/Schemas/${USER}`);
    expect(user.body.attributes.find((a: { name: string }) => a.name === 'userName')).toMatchObject(
      { required: true, uniqueness: 'server' },
    );
    expect((await f.scim('GET', '/Schemas/urn:nope')).status).toBe(404);
    expect((await f.scim('GET', '/ServiceProviderConfig', undefined, {}, 'nope')).status).toBe(401);
  });
});
