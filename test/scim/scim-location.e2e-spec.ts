import { SCIM } from './scim-fixture';
import { CREDENTIAL, IsolationFixture, rawRequest, scimUser } from './isolation-fixture';

/**
 * Issue #22, finding 9: `Location` and `meta.location` never reflect whatever Host and
 * X-Forwarded-Proto a request carries. Requests sent byte for byte as curl -H would send them.
 */
const post = (f: IsolationFixture, headers: Record<string, string>, userName: string) =>
  rawRequest(
    `${f.app.url}/scim/v2/Users`,
    'POST',
    {
      authorization: `Bearer ${CREDENTIAL.a}`,
      'content-type': SCIM,
      ...headers,
    },
    JSON.stringify(scimUser(userName, `ext-${userName}`)),
  );

const HOSTILE_HOSTS = [
  'javascript://evil.example/x',
  'evil.example/scim/v2',
  'user@evil.example',
  'evil.example:99999',
  'evil example',
  'evil.example#frag',
  '"><script>',
];
const HOSTILE_PROTOS = [
  'javascript',
  'https, javascript',
  'data:text/html,x',
  'HTTPS://evil',
  'ftp',
];

describe('SCIM Location with scim.publicBaseUrl', () => {
  const BASE = 'https://scim.example.com/identity/scim/v2';
  let f: IsolationFixture;
  beforeAll(async () => {
    f = await IsolationFixture.start('scim_location_base', { publicBaseUrl: `${BASE}/` });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('builds every URL from the configured base, whatever Host and X-Forwarded-Proto say', async () => {
    const res = await post(
      f,
      { host: 'javascript://evil.example', 'x-forwarded-proto': 'javascript' },
      'based@corp.test',
    );
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${BASE}/Users/${res.body.id}`);
    expect(res.body.meta.location).toBe(`${BASE}/Users/${res.body.id}`);
    const discovery = await rawRequest(`${f.app.url}/scim/v2/ResourceTypes/User`, 'GET', {
      authorization: `Bearer ${CREDENTIAL.a}`,
      host: 'evil.example',
    });
    expect(discovery.status).toBe(200);
    expect(JSON.stringify(discovery.body)).not.toContain('evil.example');
    expect(discovery.body.meta.location).toBe(`${BASE}/ResourceTypes/User`);
  });
});

describe('SCIM Location without a configured base: a validated Host only', () => {
  let f: IsolationFixture;
  let host: string;
  beforeAll(async () => {
    f = await IsolationFixture.start('scim_location_host');
    host = new URL(f.app.url).host;
  });
  afterAll(async () => {
    await f?.close();
  });

  it.each(HOSTILE_HOSTS)(
    'Host %j: 400 invalidValue naming Host, nothing written or reflected',
    async (hostile) => {
      const userName = `h${HOSTILE_HOSTS.indexOf(hostile)}@corp.test`;
      const res = await post(f, { host: hostile }, userName);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
      expect(res.body.detail).toMatch(/^Host: /);
      expect(res.headers.location).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toContain('evil');
      // Nothing was created: the same user can be created with a good Host.
      expect((await post(f, { host }, userName)).status).toBe(201);
    },
  );

  it.each(HOSTILE_PROTOS)(
    'X-Forwarded-Proto %j is ignored: the connection’s own scheme',
    async (proto) => {
      const res = await post(
        f,
        { host, 'x-forwarded-proto': proto },
        `p${HOSTILE_PROTOS.indexOf(proto)}@corp.test`,
      );
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`http://${host}/scim/v2/Users/${res.body.id}`);
      expect(res.body.meta.location).toBe(res.headers.location);
    },
  );

  it('X-Forwarded-Proto exactly https (a TLS-terminating proxy) is honoured', async () => {
    const res = await post(f, { host, 'x-forwarded-proto': 'https' }, 'tls@corp.test');
    expect(res.headers.location).toBe(`https://${host}/scim/v2/Users/${res.body.id}`);
  });

  it('a request without credentials is still 401 first, whatever its Host', async () => {
    const res = await rawRequest(`${f.app.url}/scim/v2/Users`, 'GET', { host: 'evil.example/x' });
    expect(res.status).toBe(401);
  });
});
