import { GROUP_SCHEMA, LIST_SCHEMA } from './scim-schemas';
import { ScimGroups } from './scim-groups';
import {
  acme,
  BASE,
  entra,
  groupBody,
  okta,
  patchBody,
  refusal,
  scimWorld,
  userBody,
} from '../testing/scim-world';

let world: ReturnType<typeof scimWorld>;
let groups: ScimGroups;
let ann: string;
let bob: string;
let carol: string;

beforeEach(async () => {
  world = scimWorld();
  groups = world.groups;
  const create = async (name: string, fields = {}) =>
    (await world.users.create(okta, userBody(name, { externalId: `okta-${name}`, ...fields }))).id;
  ann = await create('ann', { displayName: 'Ann A.' });
  bob = await create('bob');
  carol = await create('carol');
});

const rolesOf = (id: string) => world.store.user(id)?.roles;
const memberIds = (resource: Record<string, unknown>) =>
  (resource.members as { value: string }[]).map((m) => m.value).sort();

describe('ScimGroups: create, get, replace, patch, delete', () => {
  it("creates the group with its members, and the members' roles follow its name", async () => {
    const { id, etag, resource } = await groups.create(
      okta,
      groupBody('Engineering', [ann, bob, ann]),
    );
    expect(etag).toBe('W/"1"');
    expect(resource).toEqual({
      schemas: [GROUP_SCHEMA],
      id,
      displayName: 'Engineering',
      members: [
        { value: ann, display: 'Ann A.', $ref: `${BASE}/Users/${ann}`, type: 'User' },
        { value: bob, display: 'bob', $ref: `${BASE}/Users/${bob}`, type: 'User' },
      ],
      meta: {
        resourceType: 'Group',
        created: expect.any(String),
        lastModified: expect.any(String),
        location: `${BASE}/Groups/${id}`,
        version: 'W/"1"',
      },
    });
    expect([rolesOf(ann), rolesOf(bob), rolesOf(carol)]).toEqual([['eng'], ['eng'], []]);
    // The user resource shows the group (readOnly `groups`).
    expect((await world.users.get(okta, ann)).resource.groups).toEqual([
      { value: id, display: 'Engineering', $ref: `${BASE}/Groups/${id}`, type: 'direct' },
    ]);
  });

  it("a member must be a live user of this client's scope; nothing is written otherwise", async () => {
    const other = (await world.users.create(entra, userBody('dora'))).id;
    const tenantUser = (await world.users.create(acme, userBody('erin'))).id;
    await world.users.delete(okta, carol);
    const commits = world.store.commits;
    for (const id of [other, tenantUser, carol, '00000000-0000-4000-8000-000000000000', 'nope'])
      expect(await refusal(() => groups.create(okta, groupBody('Engineering', [ann, id])))).toBe(
        `invalid/invalidValue: members: no User ${id} for this client`,
      );
    expect(world.store.commits).toBe(commits);
    expect(world.store.tables.groups.size).toBe(0);
    expect(rolesOf(ann)).toEqual([]);
  });

  it.each([
    [
      { members: [{ display: 'x' }] },
      'invalid/invalidValue: members[0].value: required, a user id',
    ],
    [
      { members: [{ value: 'g', type: 'Group' }] },
      'invalid/invalidValue: members[0].type: only User members are supported (no nested groups)',
    ],
    [
      { members: ['a', 'b', 'c', 'd'].map((value) => ({ value })) },
      'invalid/tooMany: members: more than 3 values',
    ],
    [{ displayName: '' }, 'invalid/invalidValue: displayName: required, a non-empty string'],
  ])('refuses a malformed body %j, naming the attribute', async (fields, expected) => {
    expect(await refusal(() => groups.create(okta, { ...groupBody('G'), ...fields }))).toBe(
      expected,
    );
  });

  it('a displayName (any case) is unique per client scope, not across issuers', async () => {
    await groups.create(okta, groupBody('Engineering'));
    expect(await refusal(() => groups.create(okta, groupBody('ENGINEERING')))).toBe(
      'ScimConflict: displayName',
    );
    await groups.create(entra, groupBody('Engineering'));
    await groups.create(acme, groupBody('engineering'));
    expect(world.store.tables.groups.size).toBe(3);
  });

  it("get answers the group; another scope's group, or a missing one, is notFound", async () => {
    const created = await groups.create(okta, groupBody('Sales', [carol], { externalId: 'g-ext' }));
    expect(await groups.get(okta, created.id)).toEqual(created);
    expect(created.resource.externalId).toBe('g-ext');
    expect(await refusal(() => groups.get(entra, created.id))).toBe(
      `notFound/-: no Group ${created.id}`,
    );
    expect(await refusal(() => groups.get(acme, created.id))).toMatch(/^notFound/);
    expect(await refusal(() => groups.delete(acme, created.id))).toMatch(/^notFound/);
    expect(await refusal(() => groups.get(okta, 'not-a-uuid'))).toMatch(/^notFound/);
  });

  it('replace sets exactly the members it lists: added gain roles, removed lose them', async () => {
    const { id } = await groups.create(okta, groupBody('Engineering', [ann, bob]));
    const put = await groups.replace(okta, id, groupBody('Engineering', [bob, carol]), 'W/"1"');
    expect(put.etag).toBe('W/"2"');
    expect(memberIds(put.resource)).toEqual([bob, carol].sort());
    expect([rolesOf(ann), rolesOf(bob), rolesOf(carol)]).toEqual([[], ['eng'], ['eng']]);
  });

  it('roles are the union over every group a user is in', async () => {
    await groups.create(okta, groupBody('Engineering', [ann]));
    const sales = await groups.create(okta, groupBody('Sales', [ann]));
    expect(rolesOf(ann)).toEqual(['eng', 'sales']);
    await groups.patch(
      okta,
      sales.id,
      patchBody({ op: 'remove', path: `members[value eq "${ann}"]` }),
    );
    expect(rolesOf(ann)).toEqual(['eng']);
  });

  it("a rename recomputes every member's roles, including members the request leaves alone", async () => {
    const { id } = await groups.create(okta, groupBody('Engineering', [ann, bob]));
    // groupRoles keys match displayName in any case: "Admins" is the `admins` entry.
    await groups.patch(
      okta,
      id,
      patchBody({ op: 'replace', path: 'displayName', value: 'Admins' }),
    );
    expect([rolesOf(ann), rolesOf(bob)]).toEqual([
      ['admin', 'eng'],
      ['admin', 'eng'],
    ]);
    await groups.replace(okta, id, groupBody('Unmapped', [ann, bob]));
    expect([rolesOf(ann), rolesOf(bob)]).toEqual([[], []]);
    expect((await world.users.get(okta, bob)).resource.groups).toMatchObject([
      { display: 'Unmapped' },
    ]);
  });

  it('patch adds and removes members by value, checking only the added ones', async () => {
    const { id } = await groups.create(okta, groupBody('Engineering', [ann]));
    const added = await groups.patch(
      okta,
      id,
      patchBody({ op: 'add', path: 'members', value: [{ value: bob }] }),
    );
    expect(memberIds(added.resource)).toEqual([ann, bob].sort());
    expect(rolesOf(bob)).toEqual(['eng']);
    const other = (await world.users.create(entra, userBody('dora'))).id;
    expect(
      await refusal(() =>
        groups.patch(
          okta,
          id,
          patchBody({ op: 'add', path: 'members', value: [{ value: other }] }),
        ),
      ),
    ).toBe(`invalid/invalidValue: members: no User ${other} for this client`);
    const removed = await groups.patch(okta, id, patchBody({ op: 'remove', path: 'members' }));
    expect(removed.resource.members).toEqual([]);
    expect([rolesOf(ann), rolesOf(bob)]).toEqual([[], []]);
  });

  it('a stale If-Match is preconditionFailed for PUT, PATCH and DELETE, and changes nothing', async () => {
    const { id } = await groups.create(okta, groupBody('Engineering', [ann]));
    await groups.replace(okta, id, groupBody('Engineering', [ann, bob]));
    const commits = world.store.commits;
    const expected = 'preconditionFailed/-: If-Match: the resource is at version W/"2"';
    expect(await refusal(() => groups.replace(okta, id, groupBody('X'), 'W/"1"'))).toBe(expected);
    expect(
      await refusal(() =>
        groups.patch(okta, id, patchBody({ op: 'remove', path: 'members' }), 'W/"1"'),
      ),
    ).toBe(expected);
    expect(await refusal(() => groups.delete(okta, id, 'W/"1"'))).toBe(expected);
    expect(world.store.commits).toBe(commits);
    expect(memberIds((await groups.get(okta, id)).resource)).toEqual([ann, bob].sort());
  });

  it('delete removes the group and takes its roles from its members', async () => {
    const { id } = await groups.create(okta, groupBody('admins', [ann, bob]));
    await groups.create(okta, groupBody('Sales', [bob]));
    await groups.delete(okta, id, 'W/"1"');
    expect(await refusal(() => groups.get(okta, id))).toMatch(/^notFound/);
    expect([rolesOf(ann), rolesOf(bob)]).toEqual([[], ['sales']]);
  });

  it('a deleted user leaves every group it was in', async () => {
    const { id } = await groups.create(okta, groupBody('Engineering', [ann, bob]));
    await world.users.delete(okta, ann);
    expect(memberIds((await groups.get(okta, id)).resource)).toEqual([bob]);
  });
});

describe('ScimGroups: list', () => {
  it("lists the client's groups with their members, filtered and paged", async () => {
    const eng = await groups.create(okta, groupBody('Engineering', [ann, bob]));
    await groups.create(okta, groupBody('Sales', [carol]));
    await groups.create(okta, groupBody('Empty'));
    await groups.create(entra, groupBody('Engineering'));
    const all = await groups.list(okta, {});
    expect(all).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 3, itemsPerPage: 3 });
    const byName = await groups.list(okta, { filter: 'displayName eq "engineering"' });
    expect(byName).toMatchObject({ totalResults: 1, Resources: [{ id: eng.id }] });
    expect(
      memberIds((byName.Resources as Record<string, unknown>[])[0] as Record<string, unknown>),
    ).toEqual([ann, bob].sort());
    const withCarol = await groups.list(okta, { filter: `members[value eq "${carol}"]` });
    expect(withCarol).toMatchObject({ totalResults: 1, Resources: [{ displayName: 'Sales' }] });
    const page = await groups.list(okta, { sortBy: 'displayName', startIndex: 2, count: 1 });
    expect(page).toMatchObject({
      totalResults: 3,
      startIndex: 2,
      Resources: [{ displayName: 'Engineering' }],
    });
    expect(await refusal(() => groups.list(okta, { filter: 'userName eq "x"' }))).toMatch(
      /^invalid\/invalidFilter/,
    );
  });
});
