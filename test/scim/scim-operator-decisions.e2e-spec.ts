import fc from 'fast-check';
import type { Pool } from 'pg';
import {
  decideStatus,
  type StatusRequest,
  type StatusState,
  type UserStatus,
} from '@resolver/policy';
import { within } from './scim-fixture';
import { IsolationFixture, ISS, PATCH_SCHEMA, scimUser } from './isolation-fixture';

/**
 * Issue #22, findings 4 and 6: operator decisions win. A SCIM client can never move a user out
 * of `locked` or re-enable a user an operator disabled, whatever the sequence of its writes, and
 * adopting a JIT user does not re-enable it. Real Postgres, the real admin and SCIM APIs.
 */
describe('operator decisions win over SCIM and import (real Postgres)', () => {
  let f: IsolationFixture;
  let db: Pool;
  let n = 0;
  beforeAll(async () => {
    f = await IsolationFixture.start('operator_decisions');
    db = f.sql();
  });
  afterAll(async () => {
    await db?.end();
    await f?.close();
  });

  /** A user SCIM client C created, and the token of its issuer that resolves to it. */
  async function scimCreated(active = true) {
    const sub = `c-user-${++n}`;
    const created = await f.scim('c', 'POST', '/Users', {
      ...scimUser(`${sub}@corp.test`, sub),
      active,
    });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, sub, email: `${sub}@corp.test` };
  }
  const resolveAs = (sub: string) => f.resolve(ISS.c, { sub });
  const stored = async (id: string) => (await f.admin('GET', `/users/${id}`)).body;

  it('two PATCHes (active false, then true) do not unlock an operator lock', async () => {
    const { id, sub } = await scimCreated();
    expect((await resolveAs(sub)).status).toBe(200);
    expect((await f.admin('POST', `/users/${id}/lock`)).body.status).toBe('locked');
    const off = await f.setActive('c', id, false);
    expect([off.status, off.body.active]).toEqual([200, false]);
    const on = await f.setActive('c', id, true);
    expect([on.status, on.body.active]).toEqual([200, false]);
    // A PUT saying active: true is no different.
    const put = await f.scim('c', 'PUT', `/Users/${id}`, {
      ...scimUser(`${sub}@corp.test`, sub),
      active: true,
    });
    expect(put.body.active).toBe(false);
    expect(await stored(id)).toMatchObject({
      status: 'locked',
      statusDecisions: { operator: 'locked' },
    });
    await within(
      1000,
      () => resolveAs(sub),
      (r) => r.body.reason === 'USER_LOCKED',
    );
  });

  it('a deactivation that arrives during the lock still stands after the unlock (a leaver stays out)', async () => {
    const { id, sub } = await scimCreated();
    await f.admin('POST', `/users/${id}/lock`);
    await f.setActive('c', id, false);
    const unlocked = await f.admin('POST', `/users/${id}/unlock`);
    expect(unlocked.body).toMatchObject({
      status: 'disabled',
      statusDecisions: { scim: 'disabled' },
    });
    await within(
      1000,
      () => resolveAs(sub),
      (r) => r.body.reason === 'USER_DISABLED',
    );
    // SCIM lifts its own deactivation; the operator's enable overrides anyone's.
    expect((await f.setActive('c', id, true)).body.active).toBe(true);
    await within(
      1000,
      () => resolveAs(sub),
      (r) => r.status === 200,
    );
  });

  it('a PATCH of other attributes leaves the status alone (the shown active:false is no request)', async () => {
    const { id } = await scimCreated();
    await f.admin('POST', `/users/${id}/lock`);
    const patched = await f.scim('c', 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }],
    });
    expect(patched.status).toBe(200);
    expect((await f.admin('POST', `/users/${id}/unlock`)).body.status).toBe('active');
  });

  it('SCIM never re-enables a user an operator disabled; it may disable and lift only its own', async () => {
    const { id, sub } = await scimCreated();
    await f.admin('POST', `/users/${id}/disable`);
    expect((await f.setActive('c', id, true)).body.active).toBe(false);
    await within(
      1000,
      () => resolveAs(sub),
      (r) => r.body.reason === 'USER_DISABLED',
    );
    await f.admin('POST', `/users/${id}/enable`);
    expect((await f.setActive('c', id, false)).body.active).toBe(false);
    expect((await f.setActive('c', id, true)).body.active).toBe(true);
  });

  it('adoption of a JIT user an operator disabled keeps it disabled (active defaults to true)', async () => {
    const jit = await f.resolve(ISS.c, { sub: 'c-adopt-dis', email: 'adopt-dis@corp.test' });
    expect(jit.body.source).toBe('PROVISIONED');
    const id = jit.body.principal.id as string;
    await f.admin('POST', `/users/${id}/disable`);
    const adopted = await f.scim(
      'c',
      'POST',
      '/Users',
      scimUser('adopt-dis@corp.test', 'c-adopt-dis'),
    );
    expect(adopted.status).toBe(201);
    expect(adopted.body).toMatchObject({ id, active: false });
    expect(await stored(id)).toMatchObject({
      provenance: 'scim',
      status: 'disabled',
      statusDecisions: { operator: 'disabled' },
    });
    await within(
      1000,
      () => resolveAs('c-adopt-dis'),
      (r) => r.body.reason === 'USER_DISABLED',
    );
    // An adoption saying active:true of a locked JIT user: still locked.
    const jit2 = await f.resolve(ISS.c, { sub: 'c-adopt-lock', email: 'adopt-lock@corp.test' });
    await f.admin('POST', `/users/${jit2.body.principal.id}/lock`);
    const adopted2 = await f.scim('c', 'POST', '/Users', {
      ...scimUser('adopt-lock@corp.test', 'c-adopt-lock'),
      active: true,
    });
    expect(adopted2.body.active).toBe(false);
    expect((await stored(jit2.body.principal.id)).status).toBe('locked');
  });

  it("a status a DBA sets by hand is the operator's: SCIM cannot undo it", async () => {
    const { id } = await scimCreated();
    await f.setActive('c', id, false);
    await db.query(`UPDATE users SET status = 'locked' WHERE id = $1`, [id]);
    expect((await stored(id)).statusDecisions).toEqual({ operator: 'locked' });
    await f.setActive('c', id, true);
    expect((await stored(id)).status).toBe('locked');
  });

  it("the import never lifts an operator's decision, and lifts its own", async () => {
    const { id, email } = await scimCreated();
    await f.admin('POST', `/users/${id}/disable`);
    const imported = await f.admin('POST', '/users/import', {
      rows: [{ email, status: 'active' }],
    });
    expect(imported.body.results).toEqual([{ row: 1, result: 'updated', id }]);
    expect((await stored(id)).status).toBe('disabled');
    await f.admin('POST', `/users/${id}/enable`);
    await f.admin('POST', '/users/import', { rows: [{ email, status: 'disabled' }] });
    expect((await stored(id)).statusDecisions).toEqual({ import: 'disabled' });
    await f.admin('POST', '/users/import', { rows: [{ email, status: 'active' }] });
    expect((await stored(id)).status).toBe('active');
  });

  /** One write, as its writer sends it, and the request it stands for. */
  type Write =
    | { readonly by: 'operator'; readonly verb: 'enable' | 'disable' | 'lock' | 'unlock' }
    | { readonly by: 'scim'; readonly via: 'PATCH' | 'PUT'; readonly active: boolean }
    | { readonly by: 'scim-other' }
    | { readonly by: 'import'; readonly status: UserStatus }
    | { readonly by: 'dba'; readonly status: UserStatus };
  const VERB: Record<'enable' | 'disable' | 'lock' | 'unlock', StatusRequest> = {
    enable: 'active',
    disable: 'disabled',
    lock: 'locked',
    unlock: 'unlocked',
  };
  const statuses = fc.constantFrom<UserStatus>('active', 'disabled', 'locked');
  const write: fc.Arbitrary<Write> = fc.oneof(
    fc.record({
      by: fc.constant('operator' as const),
      verb: fc.constantFrom(
        'enable' as const,
        'disable' as const,
        'lock' as const,
        'unlock' as const,
      ),
    }),
    fc.record({
      by: fc.constant('scim' as const),
      via: fc.constantFrom('PATCH' as const, 'PUT' as const),
      active: fc.boolean(),
    }),
    fc.record({ by: fc.constant('scim-other' as const) }),
    fc.record({ by: fc.constant('import' as const), status: statuses }),
    fc.record({ by: fc.constant('dba' as const), status: statuses }),
  );

  it('property: whatever the interleaving of writers, the store holds what decideStatus decides, and no SCIM or import write lifts a lock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('disable' as const, 'lock' as const), { maxLength: 2 }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.array(write, { minLength: 1, maxLength: 8 }),
        async (prelude, adoptActive, writes) => {
          // A JIT user, the operator's decisions on it, then SCIM's adoption.
          const sub = `c-prop-${++n}`;
          const email = `${sub}@corp.test`;
          const jit = await f.resolve(ISS.c, { sub, email });
          const id = jit.body.principal.id as string;
          let model: StatusState = decideStatus(null, 'jit', 'active');
          for (const verb of prelude) {
            await f.admin('POST', `/users/${id}/${verb}`);
            model = decideStatus(model, 'operator', VERB[verb]);
          }
          const body = {
            ...scimUser(email, sub),
            ...(adoptActive !== undefined && { active: adoptActive }),
          };
          expect((await f.scim('c', 'POST', '/Users', body)).body.id).toBe(id);
          if (adoptActive !== undefined)
            model = decideStatus(model, 'scim', adoptActive ? 'active' : 'disabled');
          await expectStored(id, model);

          for (const w of writes) {
            const before = model;
            switch (w.by) {
              case 'operator':
                await f.admin('POST', `/users/${id}/${w.verb}`);
                model = decideStatus(model, 'operator', VERB[w.verb]);
                break;
              case 'scim':
                if (w.via === 'PATCH') await f.setActive('c', id, w.active);
                else
                  await f.scim('c', 'PUT', `/Users/${id}`, {
                    ...scimUser(email, sub),
                    active: w.active,
                  });
                model = decideStatus(model, 'scim', w.active ? 'active' : 'disabled');
                break;
              case 'scim-other':
                await f.scim('c', 'PATCH', `/Users/${id}`, {
                  schemas: [PATCH_SCHEMA],
                  Operations: [{ op: 'replace', path: 'title', value: `t${n}` }],
                });
                break;
              case 'import':
                await f.admin('POST', '/users/import', { rows: [{ email, status: w.status }] });
                model = decideStatus(model, 'import', w.status);
                break;
              case 'dba':
                await db.query('UPDATE users SET status = $1 WHERE id = $2', [w.status, id]);
                if (w.status !== model.status)
                  model = {
                    status: w.status,
                    decisions: w.status === 'active' ? {} : { operator: w.status },
                  };
                break;
            }
            await expectStored(id, model);
            if (
              before.status === 'locked' &&
              (w.by === 'scim' || w.by === 'scim-other' || w.by === 'import')
            )
              expect(model.status).toBe('locked');
          }
          // What resolution answers follows the stored status.
          const reason = { active: undefined, disabled: 'USER_DISABLED', locked: 'USER_LOCKED' }[
            model.status
          ];
          await within(
            1000,
            () => resolveAs(sub),
            (r) => r.body.reason === reason,
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  async function expectStored(id: string, model: StatusState) {
    const user = await stored(id);
    expect({ status: user.status, decisions: user.statusDecisions }).toEqual(model);
  }
});
