import { ScimFixture } from './scim-fixture';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const META_SCHEMAS = [
  'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  'urn:ietf:params:scim:schemas:core:2.0:Schema',
];

type Attr = {
  name: string;
  type: string;
  caseExact: boolean;
  referenceTypes?: string[];
  subAttributes?: Attr[];
};

/** Discovery as a strict client reads it: every schema, every method on every endpoint. */
describe('SCIM discovery: /Schemas as data, 405 on discovery endpoints, the root', () => {
  let f: ScimFixture;
  let userId: string;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_discovery');
    const u = await f.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'disc',
      externalId: 'ext-disc',
    });
    userId = u.body.id as string;
  });
  afterAll(async () => {
    await f?.close();
  });

  const expectScimError = (
    res: { status: number; headers: Headers; body: any },
    status: number,
  ) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status) });
    expect(typeof res.body.detail).toBe('string');
  };

  it('/Schemas lists the resource schemas and the discovery schemas (RFC 7643 §8.7.2), each also by id', async () => {
    const list = await f.scim('GET', '/Schemas');
    expect(list.status).toBe(200);
    const ids = list.body.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([USER, GROUP, ...META_SCHEMAS]));
    expect(list.body.totalResults).toBe(ids.length);
    for (const id of ids) {
      const one = await f.scim('GET', `/Schemas/${id}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id, meta: { resourceType: 'Schema' } });
    }
    // Every reference, at any depth, carries referenceTypes and is case exact (RFC 7643 §2.3.7).
    const references: string[] = [];
    const walk = (attrs: Attr[], at: string) => {
      for (const a of attrs) {
        if (a.type === 'reference') {
          references.push(`${at}.${a.name}`);
          expect({
            at: `${at}.${a.name}`,
            types: a.referenceTypes?.length ?? 0,
            caseExact: a.caseExact,
          }).toEqual({ at: `${at}.${a.name}`, types: expect.any(Number), caseExact: true });
          expect(a.referenceTypes?.length).toBeGreaterThan(0);
        }
        if (a.subAttributes) walk(a.subAttributes, `${at}.${a.name}`);
      }
    };
    for (const s of list.body.Resources) walk(s.attributes, s.id);
    expect(references).toEqual(
      expect.arrayContaining([
        `${USER}.photos.value`,
        `${USER}.groups.$ref`,
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.$ref',
        `${GROUP}.members.$ref`,
      ]),
    );
  });

  const discoveryPaths = [
    '/ServiceProviderConfig',
    '/ResourceTypes',
    '/ResourceTypes/User',
    '/Schemas',
    `/Schemas/${USER}`,
  ];
  it.each(discoveryPaths.flatMap((p) => ['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => [m, p])))(
    '%s %s is 405 with Allow: GET',
    async (method, path) => {
      const res = await f.scim(method, path, method === 'DELETE' ? undefined : { schemas: [USER] });
      expectScimError(res, 405);
      expect(res.headers.get('allow')).toBe('GET');
    },
  );

  it('resource endpoints answer 405 with the methods they have; unknown paths stay 404', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/Users', 'GET, POST'],
      ['DELETE', '/Groups', 'GET, POST'],
      ['PATCH', '/Users', 'GET, POST'],
      ['POST', `/Users/${userId}`, 'GET, PUT, PATCH, DELETE'],
      ['PUT', '/.search', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await f.scim(method, path, method === 'DELETE' ? undefined : {});
      expectScimError(res, 405);
      expect(res.headers.get('allow')).toBe(allow);
    }
    expectScimError(await f.scim('POST', '/Nope'), 404);
    expectScimError(await f.scim('GET', '/Users/a/b'), 404);
    // The credential comes first, as on every SCIM answer.
    const anonymous = await f.scim('POST', '/Schemas', {}, {}, 'not-a-credential');
    expectScimError(anonymous, 401);
    expect(anonymous.headers.get('allow')).toBeNull();
  });

  it('a query at the root (GET /, POST /.search) is 501: not supported, with where to ask instead', async () => {
    const search = await f.scim('POST', '/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName eq "disc"',
    });
    expectScimError(search, 501);
    expect(search.body.detail).toMatch(/\/Users\/\.search/);
    expectScimError(await f.scim('GET', ''), 501);
    expectScimError(await f.scim('POST', '/.search', {}, {}, 'not-a-credential'), 401);
    // The resource-type searches work.
    const users = await f.scim('POST', '/Users/.search', { filter: 'userName eq "disc"' });
    expect(users.body.totalResults).toBe(1);
  });
});
