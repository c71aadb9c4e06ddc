import { ENTERPRISE_SCHEMA, LIST_SCHEMA, USER_SCHEMA } from './scim-schemas';
import { ScimUsers } from './scim-users';
import {
  acme,
  BASE,
  ENTRA,
  entra,
  groupBody,
  OKTA,
  okta,
  patchBody,
  refusal,
  SCIM_CONFIG,
  scimWorld,
  userBody,
} from '../testing/scim-world';

let world: ReturnType<typeof scimWorld>;
let users: ScimUsers;
beforeEach(() => {
  world = scimWorld();
  users = world.users;
});

const ann = (fields: Record<string, unknown> = {}) =>
  userBody('ann', {
    externalId: 'okta-ann',
    name: { givenName: 'Ann', familyName: 'Anderson' },
    emails: [
      { value: 'ann@home.example', type: 'home' },
      { value: 'Ann@Work.Example', type: 'work', primary: true },
    ],
    ...fields,
  });

describe('ScimUsers: create, get, replace, patch, delete', () => {
  it('creates the users row, the SCIM resource and the subject link together', async () => {
    const { id, etag, resource } = await users.create(okta, ann({ title: 'engineer' }));
    expect(etag).toBe('W/"1"');
    expect(resource).toEqual({
      schemas: [USER_SCHEMA],
      id,
      externalId: 'okta-ann',
      userName: 'ann',
      name: { givenName: 'Ann', familyName: 'Anderson' },
      emails: [
        { value: 'ann@home.example', type: 'home' },
        { value: 'Ann@Work.Example', type: 'work', primary: true },
      ],
      title: 'engineer',
      active: true,
      meta: {
        resourceType: 'User',
        created: expect.any(String),
        lastModified: expect.any(String),
        location: `${BASE}/Users/${id}`,
        version: 'W/"1"',
      },
    });
    // What resolution reads: the primary email as its lookups compare it, a composed name, the
    // issuer's namespace; and the issuer's tokens reach the user by their subject.
    expect(world.store.user(id)).toMatchObject({
      tenant: '',
      namespace: OKTA,
      username: 'ann',
      email: 'ann@work.example',
      displayName: 'Ann Anderson',
      provenance: 'scim',
      status: 'active',
      statusDecisions: {},
    });
    expect(world.store.linksOf(id)).toEqual([`${OKTA}  okta-ann`]);
    expect(world.store.deactivated(id)).toBe(false);
  });

  it('a user created inactive is disabled by SCIM (its own decision, which it may lift)', async () => {
    const { id, resource } = await users.create(okta, ann({ active: false }));
    expect(resource.active).toBe(false);
    expect(world.store.user(id)).toMatchObject({
      status: 'disabled',
      statusDecisions: { scim: 'disabled' },
    });
    expect(world.store.deactivated(id)).toBe(true);
    await users.patch(okta, id, patchBody({ op: 'replace', path: 'active', value: true }));
    expect(world.store.user(id)).toMatchObject({ status: 'active', statusDecisions: {} });
    expect(world.store.deactivated(id)).toBe(false);
  });

  it("get answers the stored resource; a missing id, or another scope's user, is notFound", async () => {
    const created = await users.create(okta, ann());
    expect(await users.get(okta, created.id)).toEqual(created);
    // Postgres compares uuids whatever their case.
    expect((await users.get(okta, created.id.toUpperCase())).id).toBe(created.id);
    expect(await refusal(() => users.get(okta, '00000000-0000-4000-8000-000000000000'))).toBe(
      'notFound/-: no User 00000000-0000-4000-8000-000000000000',
    );
    expect(await refusal(() => users.get(okta, 'not-a-uuid'))).toBe(
      'notFound/-: no User not-a-uuid',
    );
    // Same issuer, other tenant; other issuer: neither sees it, nor can write it.
    expect(await refusal(() => users.get(acme, created.id))).toMatch(/^notFound/);
    expect(await refusal(() => users.get(entra, created.id))).toMatch(/^notFound/);
    expect(await refusal(() => users.replace(entra, created.id, userBody('x')))).toMatch(
      /^notFound/,
    );
    expect(await refusal(() => users.delete(acme, created.id))).toMatch(/^notFound/);
    expect(world.store.user(created.id)?.deletedAt).toBeNull();
  });

  it('replace writes the whole resource; without `active` the status stays as it is', async () => {
    const { id } = await users.create(okta, ann({ active: false, title: 'engineer' }));
    const put = await users.replace(
      okta,
      id,
      userBody('ann.a', { externalId: 'okta-ann', displayName: 'Ann A.' }),
    );
    expect(put.etag).toBe('W/"2"');
    expect(put.resource).not.toHaveProperty('title');
    expect(put.resource).not.toHaveProperty('emails');
    expect(put.resource.active).toBe(false);
    expect(world.store.user(id)).toMatchObject({
      username: 'ann.a',
      email: null,
      displayName: 'Ann A.',
      status: 'disabled',
    });
  });

  it('a new subject moves the link: the old subject reaches nobody', async () => {
    const { id } = await users.create(okta, ann());
    await users.replace(okta, id, ann({ externalId: 'okta-ann-2' }));
    expect(world.store.linksOf(id)).toEqual([`${OKTA}  okta-ann-2`]);
    expect(world.store.linked(OKTA, '', 'okta-ann')).toBeUndefined();
  });

  it('patch applies its operations to the stored resource and validates the outcome', async () => {
    const { id } = await users.create(okta, ann());
    const patched = await users.patch(
      okta,
      id,
      patchBody(
        { op: 'add', path: 'title', value: 'lead' },
        { op: 'replace', path: 'name.givenName', value: 'Anna' },
      ),
    );
    expect(patched.resource).toMatchObject({ title: 'lead', name: { givenName: 'Anna' } });
    expect(patched.etag).toBe('W/"2"');
    expect(world.store.user(id)?.displayName).toBe('Anna Anderson');
  });

  it('a patch that breaks the schema is refused and changes nothing (one transaction)', async () => {
    const { id } = await users.create(okta, ann());
    const before = world.store.commits;
    expect(
      await refusal(() => users.patch(okta, id, patchBody({ op: 'remove', path: 'userName' }))),
    ).toBe('invalid/mutability: "userName": userName is required');
    expect(
      await refusal(() => users.patch(okta, id, { schemas: ['urn:x'], Operations: [] })),
    ).toMatch(/^invalid\/invalidSyntax/);
    expect(world.store.commits).toBe(before);
    expect((await users.get(okta, id)).etag).toBe('W/"1"');
  });

  it('delete is soft: tokens are refused, the userName and subject are free again', async () => {
    const first = await users.create(okta, ann());
    await users.delete(okta, first.id);
    expect(world.store.user(first.id)?.deletedAt).toBeInstanceOf(Date);
    expect(await refusal(() => users.get(okta, first.id))).toMatch(/^notFound/);
    expect(await refusal(() => users.delete(okta, first.id))).toMatch(/^notFound/);
    const again = await users.create(okta, ann());
    expect(again.id).not.toBe(first.id);
    expect(world.store.linked(OKTA, '', 'okta-ann')).toBe(again.id);
  });
});

describe('ScimUsers: If-Match', () => {
  it.each([
    ['the current version', 'W/"1"'],
    ['any version', '*'],
    ['a list naming it', 'W/"7", W/"1"'],
    ['its strong form', '"1"'],
  ])('%s matches', async (_, ifMatch) => {
    const { id } = await users.create(okta, ann());
    expect((await users.replace(okta, id, ann(), ifMatch)).etag).toBe('W/"2"');
  });

  it('a stale version is preconditionFailed for PUT, PATCH and DELETE, and changes nothing', async () => {
    const { id } = await users.create(okta, ann());
    await users.replace(okta, id, ann({ title: 'v2' }));
    const before = world.store.commits;
    const stale = 'W/"1"';
    const expected = 'preconditionFailed/-: If-Match: the resource is at version W/"2"';
    expect(await refusal(() => users.replace(okta, id, ann(), stale))).toBe(expected);
    expect(
      await refusal(() => users.patch(okta, id, patchBody({ op: 'remove', path: 'title' }), stale)),
    ).toBe(expected);
    expect(await refusal(() => users.delete(okta, id, stale))).toBe(expected);
    expect(world.store.commits).toBe(before);
    expect((await users.get(okta, id)).resource.title).toBe('v2');
    await users.delete(okta, id, 'W/"2"');
    expect(world.store.user(id)?.deletedAt).toBeInstanceOf(Date);
  });
});

describe('ScimUsers: uniqueness within the issuer, never across issuers', () => {
  it('a userName (any case) or email of a live user of this client is 409 uniqueness', async () => {
    await users.create(okta, ann());
    expect(await refusal(() => users.create(okta, userBody('ANN', { externalId: 'x1' })))).toBe(
      'ScimConflict: userName',
    );
    expect(
      await refusal(() =>
        users.create(
          okta,
          userBody('bob', { externalId: 'x2', emails: [{ value: 'ANN@work.example' }] }),
        ),
      ),
    ).toBe('ScimConflict: emails');
  });

  it("another issuer's client creates the same userName and email: separate users", async () => {
    const a = await users.create(okta, ann());
    const b = await users.create(entra, ann());
    expect(b.id).not.toBe(a.id);
    expect(world.store.user(b.id)?.namespace).toBe(ENTRA);
  });

  it("an operator's user keeps its address in every namespace", async () => {
    world.store.seedUser({ namespace: '', provenance: 'admin', email: 'ann@work.example' });
    expect(await refusal(() => users.create(okta, ann()))).toBe('ScimConflict: emails');
  });

  it('a subject another live user carries is 409 naming the subject attribute', async () => {
    await users.create(okta, ann());
    expect(
      await refusal(() => users.create(okta, userBody('ann2', { externalId: 'okta-ann' }))),
    ).toBe('conflict/uniqueness: externalId: another user already carries this subject');
    const bob = await users.create(okta, userBody('bob', { externalId: 'okta-bob' }));
    expect(
      await refusal(() => users.replace(okta, bob.id, userBody('bob', { externalId: 'okta-ann' }))),
    ).toMatch(/^conflict\/uniqueness: externalId: another user/);
    expect(world.store.linksOf(bob.id)).toEqual([`${OKTA}  okta-bob`]);
  });
});

describe('ScimUsers: identifiers are stored canonical, never rewritten', () => {
  it.each([
    ['a trailing space', userBody('ann ', { externalId: 'e' }), 'userName: not canonical'],
    ['a decomposed accent', userBody('Jose\u0301', { externalId: 'e' }), 'userName: not canonical'],
    ['a control character', userBody('ann\u0007', { externalId: 'e' }), 'userName: not canonical'],
    [
      'an email with a zero-width space',
      userBody('ann', { externalId: 'e', emails: [{ value: 'ann\u200b@x.example' }] }),
      'emails: not canonical',
    ],
  ])('%s is invalidValue naming the attribute, and nothing is written', async (_, body, detail) => {
    expect(await refusal(() => users.create(okta, body))).toContain(
      `invalid/invalidValue: ${detail}`,
    );
    expect(world.store.commits).toBe(0);
    expect(world.store.tables.users.size).toBe(0);
  });
});

describe("ScimUsers: the subject, by the client's attribute and its issuer's policy", () => {
  it('a user without externalId is stored unlinked until a PUT or PATCH gives it one', async () => {
    const { id } = await users.create(okta, userBody('carol'));
    expect(world.store.linksOf(id)).toEqual([]);
    await users.patch(okta, id, patchBody({ op: 'add', path: 'externalId', value: 'okta-carol' }));
    expect(world.store.linked(OKTA, '', 'okta-carol')).toBe(id);
    const dave = await users.create(okta, userBody('dave'));
    await users.replace(okta, dave.id, userBody('dave', { externalId: 'okta-dave' }));
    expect(world.store.linked(OKTA, '', 'okta-dave')).toBe(dave.id);
  });

  it('a linked user cannot lose its subject, by PUT or PATCH (400 mutability)', async () => {
    const { id } = await users.create(okta, ann());
    const detail =
      "invalid/mutability: externalId: this user's tokens resolve by it; it can be changed, not removed (DELETE the user to cut its tokens off)";
    expect(await refusal(() => users.replace(okta, id, userBody('ann')))).toBe(detail);
    expect(
      await refusal(() => users.patch(okta, id, patchBody({ op: 'remove', path: 'externalId' }))),
    ).toBe(detail);
    expect(world.store.linked(OKTA, '', 'okta-ann')).toBe(id);
  });

  it("the link holds the subject as the issuer's policy normalises it (Entra: userName, lower-cased)", async () => {
    const { id } = await users.create(entra, userBody('Bob@Entra.Example'));
    expect(world.store.linksOf(id)).toEqual([`${ENTRA}  bob@entra.example`]);
    expect(world.store.user(id)?.username).toBe('Bob@Entra.Example');
  });

  it('an enterprise attribute can carry the subject (acme: employeeNumber, its own tenant)', async () => {
    const { id } = await users.create(
      acme,
      userBody('erin', {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        [ENTERPRISE_SCHEMA]: { employeeNumber: 'E-42' },
      }),
    );
    expect(world.store.linksOf(id)).toEqual([`${OKTA} acme E-42`]);
    expect(world.store.user(id)).toMatchObject({ tenant: 'acme', namespace: OKTA });
    const unlinked = await users.create(acme, userBody('frank'));
    expect(world.store.linksOf(unlinked.id)).toEqual([]);
  });

  it("a subject the issuer's policy refuses is invalidValue, and nothing is written", async () => {
    expect(
      await refusal(() => users.create(okta, userBody('ann', { externalId: ' okta-ann' }))),
    ).toMatch(/^invalid\/invalidValue: externalId: not a subject the issuer's policy accepts: /);
    expect(world.store.tables.users.size).toBe(0);
  });
});

describe('ScimUsers: list', () => {
  async function seedFive() {
    const ids: string[] = [];
    for (const n of ['erin', 'dave', 'carol', 'bob', 'ann', 'zed'])
      ids.push(
        (await users.create(okta, userBody(n, { externalId: `okta-${n}`, active: n !== 'bob' })))
          .id,
      );
    await users.create(entra, userBody('ann'));
    return ids;
  }
  /** Puts okta's ann in a group. */
  async function seedGroup() {
    const ann = await users.list(okta, { filter: 'userName eq "ann"' });
    const id = (ann.Resources as { id: string }[])[0]?.id ?? '';
    await world.groups.create(okta, groupBody('Engineering', [id]));
    return { members: [id] };
  }

  it("pages the client's own users in a stable order, capped at maxResults", async () => {
    await seedFive();
    const all = await users.list(okta, {});
    expect(all).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 6, startIndex: 1 });
    expect(all.itemsPerPage).toBe(SCIM_CONFIG.maxResults);
    const names = (r: Record<string, unknown>) =>
      (r.Resources as { userName: string }[]).map((u) => u.userName);
    expect(names(all)).toEqual(['erin', 'dave', 'carol', 'bob', 'ann']);
    expect(names(await users.list(okta, { startIndex: '5', count: '10' }))).toEqual(['ann', 'zed']);
    expect((await users.list(okta, { count: 1_000 })).itemsPerPage).toBe(SCIM_CONFIG.maxResults);
    expect(
      names(await users.list(okta, { sortBy: 'userName', sortOrder: 'descending', count: 2 })),
    ).toEqual(['zed', 'erin']);
    expect(await users.list(okta, { count: 0 })).toMatchObject({
      totalResults: 6,
      itemsPerPage: 0,
      Resources: [],
    });
    expect(await users.list(okta, { startIndex: 0, count: -3 })).toMatchObject({
      startIndex: 1,
      itemsPerPage: 0,
    });
    expect(await users.list(okta, { startIndex: 99 })).toMatchObject({
      totalResults: 6,
      Resources: [],
    });
  });

  it('filters as the store renders the compiled filter (userName is case-insensitive)', async () => {
    await seedFive();
    const [annId] = (await seedGroup()).members;
    const found = await users.list(okta, { filter: 'userName eq "ANN"' });
    expect(found).toMatchObject({
      totalResults: 1,
      Resources: [{ id: annId, userName: 'ann', externalId: 'okta-ann' }],
    });
    // Each listed user shows its groups, as a get does.
    expect((found.Resources as Record<string, unknown>[])[0]?.groups).toMatchObject([
      { display: 'Engineering' },
    ]);
    expect((await users.list(okta, { filter: 'active eq false' })).totalResults).toBe(1);
    expect(
      (await users.list(okta, { filter: 'userName sw "d" or externalId eq "okta-zed"' }))
        .totalResults,
    ).toBe(2);
  });

  it('a bad paging value or filter is invalid, naming it', async () => {
    expect(await refusal(() => users.list(okta, { startIndex: '1.5' }))).toBe(
      'invalid/invalidValue: startIndex: must be an integer',
    );
    expect(await refusal(() => users.list(okta, { count: 'ten' }))).toBe(
      'invalid/invalidValue: count: must be an integer',
    );
    expect(await refusal(() => users.list(okta, { filter: 'userName eq' }))).toMatch(
      /^invalid\/invalidFilter/,
    );
  });
});
