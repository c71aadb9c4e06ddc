import { decideStatus, type StatusState } from '@resolver/policy';
import { ScimUsers } from './scim-users';
import { ENTRA, OKTA, okta, patchBody, refusal, scimWorld, userBody } from '../testing/scim-world';

let world: ReturnType<typeof scimWorld>;
let users: ScimUsers;
beforeEach(() => {
  world = scimWorld();
  users = world.users;
});

/** What an operator's request makes of a user's state (the admin API decides the same way). */
const operator = (
  state: StatusState | null,
  request: 'active' | 'disabled' | 'locked' | 'unlocked',
) => decideStatus(state ?? { status: 'active', decisions: {} }, 'operator', request);
const stateOf = (id: string): StatusState => {
  const u = world.store.user(id);
  if (!u) throw new Error(`no user ${id}`);
  return { status: u.status, decisions: u.statusDecisions };
};

/** A user JIT provisioned from an OKTA token before SCIM was switched on. */
const jitUser = (fields: Parameters<typeof world.store.seedUser>[0] = {}) =>
  world.store.seedUser({
    namespace: OKTA,
    provenance: 'jit',
    email: 'ann@work.example',
    link: { issuer: OKTA, subject: 'okta-ann' },
    ...fields,
  });
const annBody = (fields: Record<string, unknown> = {}) =>
  userBody('ann', {
    externalId: 'okta-ann',
    emails: [{ value: 'ann@work.example', primary: true }],
    ...fields,
  });

describe('ScimUsers: adoption of a user another writer created for the subject', () => {
  it('takes over a JIT user linked in its scope: same id, provenance scim, no second user', async () => {
    const id = jitUser();
    const { id: adopted, resource } = await users.create(okta, annBody());
    expect(adopted).toBe(id);
    expect(resource).toMatchObject({ id, userName: 'ann', active: true });
    expect(world.store.tables.users.size).toBe(1);
    expect(world.store.user(id)).toMatchObject({
      provenance: 'scim',
      namespace: OKTA,
      username: 'ann',
      email: 'ann@work.example',
    });
    expect((await users.get(okta, id)).etag).toBe('W/"1"');
  });

  it("moves a user linked only in its scope from the operator's namespace into its issuer's", async () => {
    const id = jitUser({ namespace: '', provenance: 'admin' });
    await users.create(okta, annBody());
    expect(world.store.user(id)).toMatchObject({ namespace: OKTA, provenance: 'scim' });
  });

  it.each([
    [
      'linked to another issuer as well',
      () => world.store.seedLink(ENTRA, '', 'ann-at-entra', jitUser()),
    ],
    [
      'linked in another tenant of its issuer as well',
      () => world.store.seedLink(OKTA, 'acme', 'okta-ann', jitUser()),
    ],
    [
      "whose identifiers live in another issuer's namespace",
      () => void jitUser({ namespace: ENTRA }),
    ],
  ])('refuses (409) a user %s, and changes nothing', async (_, seed) => {
    seed();
    const before = structuredClone([...world.store.tables.users.values()]);
    expect(await refusal(() => users.create(okta, annBody()))).toBe(
      'conflict/uniqueness: externalId: the user holding this subject also belongs to another issuer or tenant; an operator must unlink it there before this client can manage it',
    );
    expect([...world.store.tables.users.values()]).toEqual(before);
    expect(world.store.tables.scimUsers.size).toBe(0);
    expect(world.store.commits).toBe(0);
  });

  it('never adopts a service account or a user SCIM already manages: the subject is taken', async () => {
    jitUser({ kind: 'service', email: null });
    expect(await refusal(() => users.create(okta, annBody()))).toBe(
      'conflict/uniqueness: externalId: another user already carries this subject',
    );
    world = scimWorld();
    users = world.users;
    await users.create(okta, annBody());
    expect(
      await refusal(() => users.create(okta, userBody('ann2', { externalId: 'okta-ann' }))),
    ).toMatch(/another user already carries this subject/);
    expect(world.store.tables.users.size).toBe(1);
  });

  it('a deleted user holding the subject is not adopted: the link moves to a new user', async () => {
    const old = jitUser({ deletedAt: new Date() });
    const { id } = await users.create(okta, annBody());
    expect(id).not.toBe(old);
    expect(world.store.linked(OKTA, '', 'okta-ann')).toBe(id);
    expect(world.store.user(old)?.provenance).toBe('jit');
  });

  it('a user without the subject attribute adopts nobody, even one holding its userName link', async () => {
    const id = jitUser({ link: { issuer: OKTA, subject: 'ann' } });
    const created = await users.create(okta, userBody('carol'));
    expect(created.id).not.toBe(id);
    expect(world.store.linksOf(created.id)).toEqual([]);
  });
});

describe('ScimUsers: operator decisions win (decideStatus, writer scim)', () => {
  it("adoption without `active` keeps the status; with `active: true` an operator's disable stands", async () => {
    const id = jitUser({ status: 'disabled', statusDecisions: { operator: 'disabled' } });
    await users.create(okta, annBody());
    expect(stateOf(id)).toEqual({ status: 'disabled', decisions: { operator: 'disabled' } });
    expect(world.store.deactivated(id)).toBe(false);

    world = scimWorld();
    users = world.users;
    const again = jitUser({ status: 'disabled', statusDecisions: { operator: 'disabled' } });
    const { resource } = await users.create(okta, annBody({ active: true }));
    expect(resource.active).toBe(false);
    expect(stateOf(again)).toEqual({ status: 'disabled', decisions: { operator: 'disabled' } });
  });

  it("adopting a locked user with active false records SCIM's deactivation under the lock", async () => {
    const id = jitUser({ status: 'locked', statusDecisions: { operator: 'locked' } });
    await users.create(okta, annBody({ active: false }));
    expect(stateOf(id)).toEqual({
      status: 'locked',
      decisions: { operator: 'locked', scim: 'disabled' },
    });
    expect(world.store.deactivated(id)).toBe(true);
  });

  it('two PATCHes (active false, then true) never lift an operator lock; the ETag shows it', async () => {
    const { id } = await users.create(okta, annBody());
    world.store.setStatus(id, operator(stateOf(id), 'locked'));
    expect((await users.get(okta, id)).etag).toBe('W/"1-locked"');
    for (const value of [false, true])
      await users.patch(okta, id, patchBody({ op: 'replace', path: 'active', value }));
    expect(stateOf(id)).toEqual({ status: 'locked', decisions: { operator: 'locked' } });
    expect((await users.get(okta, id)).resource.active).toBe(false);
  });

  it('a deactivation that arrives during the lock still stands after the unlock', async () => {
    const { id } = await users.create(okta, annBody());
    world.store.setStatus(id, operator(stateOf(id), 'locked'));
    await users.patch(okta, id, patchBody({ op: 'replace', path: 'active', value: false }));
    world.store.setStatus(id, operator(stateOf(id), 'unlocked'));
    expect(stateOf(id)).toEqual({ status: 'disabled', decisions: { scim: 'disabled' } });
    await users.replace(okta, id, annBody({ active: true }));
    expect(stateOf(id)).toEqual({ status: 'active', decisions: {} });
  });

  it('a PATCH of other attributes leaves the status alone (the shown active:false is no request)', async () => {
    const { id } = await users.create(okta, annBody());
    world.store.setStatus(id, operator(stateOf(id), 'disabled'));
    await users.patch(okta, id, patchBody({ op: 'add', path: 'title', value: 'lead' }));
    expect(stateOf(id)).toEqual({ status: 'disabled', decisions: { operator: 'disabled' } });
    expect(world.store.deactivated(id)).toBe(false);
  });

  it('SCIM never re-enables a user an operator disabled, by PUT or PATCH', async () => {
    const { id } = await users.create(okta, annBody());
    world.store.setStatus(id, operator(stateOf(id), 'disabled'));
    await users.replace(okta, id, annBody({ active: true }));
    await users.patch(okta, id, patchBody({ op: 'replace', path: 'active', value: 'True' }));
    expect(stateOf(id)).toEqual({ status: 'disabled', decisions: { operator: 'disabled' } });
  });

  it("a status a DBA set by hand (no decision behind it) is the operator's: SCIM cannot undo it", async () => {
    const { id } = await users.create(okta, annBody());
    world.store.setStatus(id, { status: 'disabled', decisions: {} });
    const { resource } = await users.replace(okta, id, annBody({ active: true }));
    expect(resource.active).toBe(false);
    expect(stateOf(id)).toEqual({ status: 'disabled', decisions: { operator: 'disabled' } });
  });
});
