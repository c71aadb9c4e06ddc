import { ResolverProcess } from '../support/resolver-process';
import { OKTA_ISS, OKTA_TOKEN, ScimFixture, within } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Deprovisioning through SCIM on replica A reaches replica B (another OS process) within 1 s. */
describe('SCIM deprovisioning across replicas', () => {
  let f: ScimFixture;
  let b: ResolverProcess;
  const logs: string[] = [];
  const resolveOnB = async (t: string) => {
    const res = await fetch(`${b.url}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}` },
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    f = await ScimFixture.start(
      'scim_replicas',
      { logging: { level: 'info' } },
      {
        write: (chunk: string) => void logs.push(chunk),
      },
    );
    b = await ResolverProcess.start(f.databaseUrl, { issuers: f.config.issuers });
  });
  afterAll(async () => {
    await b?.stop();
    await f?.close();
  });

  it('active=false, re-activation and DELETE: B refuses its cached token within 1 s each time', async () => {
    const created = await f.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'replica@example.com',
      externalId: '00ureplica',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const t = await f.token(OKTA_ISS, { sub: '00ureplica' });
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.source === 'CACHE',
    );

    const patch = (active: unknown) =>
      f.scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'active', value: active }],
      });
    expect((await patch('False')).status).toBe(200);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.reason === 'USER_DISABLED',
    );

    expect((await patch(true)).status).toBe(200);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.status === 200,
    );
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.source === 'CACHE',
    );

    expect((await f.scim('DELETE', `/Users/${id}`)).status).toBe(204);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.reason === 'USER_DELETED',
    );

    // One log line per write, naming the client and the user; never the credential.
    const changes = logs
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'admin_change');
    expect(changes.map((c) => [c.actor, c.action, c.userId])).toEqual([
      ['scim:okta', 'scim.user.create', id],
      ['scim:okta', 'scim.user.patch', id],
      ['scim:okta', 'scim.user.patch', id],
      ['scim:okta', 'scim.user.delete', id],
    ]);
    expect(logs.join('')).not.toContain(OKTA_TOKEN);
  });
});
