import * as scimResponse from '../../apps/resolver/src/scim/scim-response';
import { ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * SCIM is a surface like the others: a bug in answering a SCIM request is counted once in
 * `resolver_internal_errors_total{transport="scim"}` and logged once (`event: internal_error`),
 * through the same InternalErrors as every transport — not by a logger of its own — and the
 * client gets a bare SCIM 500. A refusal is never counted.
 */
describe('SCIM internal errors are counted once, like every surface', () => {
  let f: ScimFixture;
  const lines: string[] = [];
  const internalErrorLines = () =>
    lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'internal_error');
  const counted = async (): Promise<number | undefined> => {
    const text = (await f.app.http('/metrics')).body as string;
    const m = /^resolver_internal_errors_total\{transport="scim"\} (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  };

  beforeAll(async () => {
    f = await ScimFixture.start(
      'scim_internal_errors',
      { logging: { level: 'error' } },
      { write: (c) => void lines.push(c) },
    );
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await f?.close();
  });

  it('the scim surface is exported at zero once SCIM is served', async () => {
    expect(await counted()).toBe(0);
  });

  it('a fault translating a created user: a bare SCIM 500, counted and logged once', async () => {
    const before = internalErrorLines().length;
    jest.spyOn(scimResponse, 'sendResource').mockImplementationOnce(() => {
      throw new Error('injected translation fault: SELECT secret');
    });
    const res = await f.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'fault@example.com',
      externalId: 'ext-fault',
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.body).toEqual({ schemas: [ERROR], status: '500', detail: 'internal error' });
    expect(await counted()).toBe(1);
    const logged = internalErrorLines().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ transport: 'scim' });
    // The request is counted by its answer too.
    const metrics = (await f.app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /^resolver_scim_requests_total\{client="okta",operation="users.create",result="500"\} 1$/m,
    );
  });

  it('refusals are answers, never counted: a missing user, a bad body, an anonymous client', async () => {
    expect((await f.scim('GET', '/Users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await f.scim('POST', '/Users', '{')).status).toBe(400);
    expect((await f.scim('GET', '/Users', undefined, {}, 'wrong')).status).toBe(401);
    expect((await f.scim('PATCH', '/ServiceProviderConfig', {})).status).toBe(405);
    expect(await counted()).toBe(1);
  });
});
