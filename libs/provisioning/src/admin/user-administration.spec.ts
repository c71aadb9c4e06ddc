import { StoreRefusal } from '@resolver/identity';
import {
  InMemoryDatabase,
  InMemoryIdentityStore,
  InMemoryRevocationRepository,
  RecordingAnnouncer,
} from '@resolver/identity/testing';
import { AdminError } from './admin-error';
import { createUserInput, listUsersInput, parseInput, updateUserInput } from './admin-inputs';
import { UserAdministration } from './user-administration';

const NOW = new Date('2026-03-01T12:00:00.250Z');
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

let store: InMemoryIdentityStore;
let revocations: InMemoryRevocationRepository;
let announcer: RecordingAnnouncer;
let admin: UserAdministration;

/** The typed input the edge (the zod pipe) hands the use case. */
const create = (body: unknown) => admin.create(parseInput(createUserInput, body));

/** Resolves to the AdminError a call was refused with (fails the test otherwise). */
async function refusal(
  call: Promise<unknown>,
): Promise<Pick<AdminError, 'kind' | 'field' | 'message'>> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminError);
  const { kind, field, message } = error as AdminError;
  return { kind, field, message };
}

beforeEach(() => {
  const db = new InMemoryDatabase(() => NOW);
  store = new InMemoryIdentityStore(db);
  revocations = new InMemoryRevocationRepository(db);
  announcer = new RecordingAnnouncer();
  admin = new UserAdministration(store, revocations, announcer, () => NOW);
});

describe('UserAdministration', () => {
  it('creates a user with provenance admin and its identities, in one transaction', async () => {
    const user = await create({
      tenant: 't1',
      email: 'Ann@Example.com',
      roles: ['a'],
      identities: [{ issuer: 'https://idp', subject: 'ann' }],
    });
    expect(store.commits).toBe(1);
    expect(user).toMatchObject({
      tenant: 't1',
      email: 'ann@example.com',
      roles: ['a'],
      status: 'active',
      provenance: 'admin',
      kind: 'user',
    });
    expect(await admin.get(user.id)).toEqual(user);
    expect(await admin.identities(user.id)).toEqual([
      expect.objectContaining({ issuer: 'https://idp', tenant: '', subject: 'ann' }),
    ]);
  });

  it('answers a taken email or identity with 409 naming the field, and leaves nothing behind', async () => {
    await create({
      tenant: 'dup',
      email: 'dup@example.com',
      identities: [{ issuer: 'i', subject: 's1' }],
    });
    expect(await refusal(create({ tenant: 'dup', email: 'DUP@example.com' }))).toEqual({
      kind: 'CONFLICT',
      field: 'email',
      message: 'email: already in use',
    });
    expect(
      await refusal(
        create({
          tenant: 'dup',
          email: 'other@example.com',
          identities: [{ issuer: 'i', subject: 's1' }],
        }),
      ),
    ).toMatchObject({ kind: 'CONFLICT', field: 'identities' });
    expect(store.allUsers().map((u) => u.email)).toEqual(['dup@example.com']);
    // The same address in another tenant, or held by a deleted user, is free.
    const other = await create({ tenant: 'elsewhere', email: 'dup@example.com' });
    await admin.softDelete(other.id);
    await create({ tenant: 'elsewhere', email: 'dup@example.com' });
    // ...and restoring the deleted one is then the conflict.
    expect(await refusal(admin.restore(other.id))).toMatchObject({
      kind: 'CONFLICT',
      field: 'email',
    });
  });

  it('answers 404 for every change of an unknown user', async () => {
    for (const call of [
      admin.get(UNKNOWN),
      admin.update(UNKNOWN, parseInput(updateUserInput, { displayName: 'x' })),
      admin.setStatus(UNKNOWN, 'disabled'),
      admin.softDelete(UNKNOWN),
      admin.restore(UNKNOWN),
      admin.signOutEverywhere(UNKNOWN),
      admin.identities(UNKNOWN),
      admin.link(UNKNOWN, { issuer: 'i', tenant: '', subject: 's' }),
    ])
      expect(await refusal(call)).toEqual({
        kind: 'NOT_FOUND',
        field: undefined,
        message: `no user ${UNKNOWN}`,
      });
    expect(await refusal(admin.unlink(UNKNOWN, UNKNOWN))).toMatchObject({ kind: 'NOT_FOUND' });
  });

  it('runs the lifecycle: update, disable, lock, delete, restore, sign out everywhere', async () => {
    const { id } = await create({ email: 'life@example.com' });
    expect(
      (await admin.update(id, parseInput(updateUserInput, { roles: ['r'], displayName: null })))
        .roles,
    ).toEqual(['r']);
    expect((await admin.setStatus(id, 'disabled')).status).toBe('disabled');
    expect((await admin.setStatus(id, 'locked')).status).toBe('locked');
    expect((await admin.setStatus(id, 'active')).status).toBe('active');
    const deleted = await admin.softDelete(id);
    expect(deleted.deletedAt).toEqual(NOW);
    // Deleting again keeps the first deletion time.
    expect((await admin.softDelete(id)).deletedAt).toEqual(NOW);
    expect((await admin.restore(id)).deletedAt).toBeNull();
    // Tokens of this same second may be in flight: valid only from the next whole second.
    expect((await admin.signOutEverywhere(id)).tokensValidAfter).toEqual(
      new Date('2026-03-01T12:00:01.000Z'),
    );
  });

  it('links and unlinks identities; an identity of another user is not unlinked', async () => {
    const ann = await create({ email: 'ann@example.com' });
    const bob = await create({ email: 'bob@example.com' });
    const link = await admin.link(ann.id, { issuer: 'https://idp', tenant: '', subject: 'abc' });
    expect(
      await refusal(admin.link(bob.id, { issuer: 'https://idp', tenant: '', subject: 'abc' })),
    ).toMatchObject({
      kind: 'CONFLICT',
      field: 'identities',
    });
    expect(await refusal(admin.unlink(bob.id, link.id))).toEqual({
      kind: 'NOT_FOUND',
      field: undefined,
      message: `no identity ${link.id} for user ${bob.id}`,
    });
    await admin.unlink(ann.id, link.id);
    expect(await admin.identities(ann.id)).toEqual([]);
  });

  it('pages with an opaque cursor and filters; a foreign cursor is 400 naming it', async () => {
    for (let i = 0; i < 5; i++) await create({ tenant: 'page', email: `p${i}@example.com` });
    await create({ tenant: 'other', email: 'o@example.com' });
    const list = (query: Record<string, string>) => admin.list(parseInput(listUsersInput, query));
    const emails: (string | null)[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ tenant: 'page', limit: '2', ...(cursor && { cursor }) });
      expect(page.users.length).toBeLessThanOrEqual(2);
      emails.push(...page.users.map((u) => u.email));
      cursor = page.nextCursor;
    } while (cursor);
    expect(emails).toEqual([
      'p0@example.com',
      'p1@example.com',
      'p2@example.com',
      'p3@example.com',
      'p4@example.com',
    ]);

    const { id } = (await list({ email: 'P1@example.com' })).users[0]!;
    await admin.softDelete(id);
    expect((await list({ email: 'p1@example.com' })).users).toEqual([]);
    expect((await list({ email: 'p1@example.com', deleted: 'true' })).users).toHaveLength(1);
    expect((await list({ tenant: 'page', deleted: 'all' })).users).toHaveLength(5);
    expect(await refusal(list({ cursor: 'garbage' }))).toEqual({
      kind: 'INVALID',
      field: 'cursor',
      message: 'cursor: not a cursor from a previous page',
    });
  });

  it('revokes a jti until its expiry, refusing an expiry in the past', async () => {
    const expiresAt = new Date(NOW.getTime() + 60_000);
    expect(await admin.revoke({ issuer: 'https://idp', jti: 'j1', expiresAt })).toEqual({
      issuer: 'https://idp',
      jti: 'j1',
      expiresAt,
    });
    expect(await revocations.isRevoked('https://idp', 'j1')).toBe(true);
    const past = await refusal(admin.revoke({ issuer: 'https://idp', jti: 'j2', expiresAt: NOW }));
    expect(past).toMatchObject({ kind: 'INVALID', field: 'expiresAt' });
    expect(past.message).toContain('is in the past');
    expect(await revocations.isRevoked('https://idp', 'j2')).toBe(false);
  });

  it('announces a cache flush to every replica', async () => {
    await admin.flushCaches();
    expect(announcer.announcements).toBe(1);
  });

  it('reports an unreachable store as USER_STORE_UNAVAILABLE, never as not found', async () => {
    const { id } = await create({ email: 'x@example.com' });
    store.failNext = true;
    await expect(admin.get(id)).rejects.toMatchObject({ reason: 'USER_STORE_UNAVAILABLE' });
    await expect(admin.get(id)).resolves.toMatchObject({ id });
  });

  it("maps the store's other refusals: a missing referenced user is 404, a refused value 400", async () => {
    const refusing = (error: StoreRefusal) =>
      new UserAdministration(
        { run: () => Promise.reject(error) },
        revocations,
        announcer,
        () => NOW,
      );
    expect(await refusal(refusing(new StoreRefusal('reference', 'fk')).get(UNKNOWN))).toEqual({
      kind: 'NOT_FOUND',
      field: undefined,
      message: 'the user does not exist',
    });
    expect(
      await refusal(refusing(new StoreRefusal('invalid', 'users_email_length_check')).get(UNKNOWN)),
    ).toEqual({
      kind: 'INVALID',
      field: undefined,
      message: 'a value is out of range',
    });
  });
});
