import { ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Filters compiled to SQL and run against real Postgres; paging, projection, sorting. */
describe('SCIM list: filter, paging, attributes, sortBy', () => {
  let f: ScimFixture;
  const ids: Record<string, string> = {};
  let midpoint = '';
  const names = async (filter: string, extra = '') => {
    const res = await f.scim('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);
    expect(res.status).toBe(200);
    return (res.body.Resources as { userName: string }[]).map((r) => r.userName).sort();
  };

  beforeAll(async () => {
    f = await ScimFixture.start('scim_list');
    const people = [
      {
        userName: 'ann',
        title: 'Engineer',
        emails: [
          { type: 'work', value: 'ann@corp.example', primary: true },
          { type: 'home', value: 'ann@home.example' },
        ],
        name: { givenName: 'Ann', familyName: 'Anderson' },
        [ENTERPRISE]: { employeeNumber: '100', department: 'R&D' },
      },
      {
        userName: 'ben',
        title: 'Manager',
        emails: [{ type: 'home', value: 'ben@corp.example' }],
        name: { givenName: 'Ben', familyName: 'Benson' },
      },
      {
        userName: 'cat',
        emails: [{ type: 'work', value: 'cat@other.example' }],
        name: { givenName: 'Cat', familyName: 'Carlson' },
        [ENTERPRISE]: { employeeNumber: '300' },
      },
      { userName: 'dan', title: 'engineer', active: false },
    ];
    for (const [i, p] of people.entries()) {
      const res = await f.scim('POST', '/Users', {
        schemas: [USER, ENTERPRISE],
        externalId: `ext-${p.userName}`,
        ...p,
      });
      expect(res.status).toBe(201);
      ids[p.userName] = res.body.id;
      if (i === 1) {
        await new Promise((r) => setTimeout(r, 30));
        midpoint = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 30));
      }
    }
  });
  afterAll(async () => {
    await f?.close();
  });

  it.each([
    ['userName eq "ANN"', ['ann']],
    ['userName ne "ann"', ['ben', 'cat', 'dan']],
    ['userName co "a"', ['ann', 'cat', 'dan']],
    ['userName sw "b"', ['ben']],
    ['userName ew "t"', ['cat']],
    ['userName gt "b"', ['ben', 'cat', 'dan']],
    ['userName ge "ben" and userName le "cat"', ['ben', 'cat']],
    ['userName lt "b"', ['ann']],
    ['title pr', ['ann', 'ben', 'dan']],
    ['title eq "engineer"', ['ann', 'dan']],
    ['not (title pr)', ['cat']],
    ['active eq false', ['dan']],
    ['active eq true and not (userName eq "ann")', ['ben', 'cat']],
    ['emails[type eq "work" and value co "@corp."]', ['ann']],
    ['emails[type eq "work"].value ew "corp.example"', ['ann']],
    ['emails[type eq "home"].value eq "ann@corp.example"', []],
    ['emails.value co "corp"', ['ann', 'ben']],
    ['emails co "other"', ['cat']],
    ['emails pr', ['ann', 'ben', 'cat']],
    ['emails[primary eq true]', ['ann']],
    ['name.familyName sw "C" or name.givenName eq "ben"', ['ben', 'cat']],
    ['(userName eq "ann" or userName eq "ben") and title eq "Manager"', ['ben']],
    [`${ENTERPRISE}:employeeNumber eq "300"`, ['cat']],
    [`${ENTERPRISE}:department pr`, ['ann']],
    ['externalId eq "ext-ben"', ['ben']],
    ['externalId eq "EXT-BEN"', []],
    ['meta.created lt "2000-01-01T00:00:00Z"', []],
  ])('%s', async (filter, expected) => {
    expect(await names(filter)).toEqual(expected);
  });

  it('meta.lastModified comparisons see writes', async () => {
    expect(await names(`meta.created lt "${midpoint}"`)).toEqual(['ann', 'ben']);
    expect(await names(`meta.lastModified gt "${midpoint}"`)).toEqual(['cat', 'dan']);
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await f.scim('PATCH', `/Users/${ids.ann}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'nickName', value: 'A' }],
    });
    expect(await names(`meta.lastModified ge "${before}"`)).toEqual(['ann']);
  });

  it('startIndex/count page through a stable order; totalResults counts all matches', async () => {
    const page = (start: number, count: number) =>
      f.scim('GET', `/Users?startIndex=${start}&count=${count}&sortBy=userName`);
    const p1 = await page(1, 2);
    expect(p1.body).toMatchObject({ totalResults: 4, startIndex: 1, itemsPerPage: 2 });
    expect(p1.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['ann', 'ben']);
    const p2 = await page(3, 2);
    expect(p2.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['cat', 'dan']);
    const past = await page(10, 2);
    expect(past.body).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
    const zero = await page(1, 0);
    expect(zero.body).toMatchObject({ totalResults: 4, itemsPerPage: 0 });
    const desc = await f.scim('GET', '/Users?sortBy=name.familyName&sortOrder=descending&count=2');
    expect(desc.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      'cat',
      'ben',
    ]);
    expect((await f.scim('GET', '/Users?sortBy=emails')).body.scimType).toBe('invalidValue');
    expect((await f.scim('GET', '/Users?count=abc')).body.scimType).toBe('invalidValue');
  });

  it('attributes and excludedAttributes (id and schemas always returned)', async () => {
    const only = await f.scim(
      'GET',
      `/Users/${ids.ann}?attributes=userName,name.givenName,${ENTERPRISE}:employeeNumber`,
    );
    expect(only.body).toEqual({
      schemas: [USER, ENTERPRISE],
      id: ids.ann,
      userName: 'ann',
      name: { givenName: 'Ann' },
      [ENTERPRISE]: { employeeNumber: '100' },
    });
    const without = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "ann"')}&excludedAttributes=emails,meta,name.familyName`,
    );
    const r = without.body.Resources[0];
    expect(r.emails).toBeUndefined();
    expect(r.meta).toBeUndefined();
    expect(r.name).toEqual({ givenName: 'Ann' });
    expect(r.userName).toBe('ann');
    const search = await f.scim('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: 'userName sw "c"',
      attributes: ['userName'],
    });
    expect(search.status).toBe(200);
    expect(search.body.Resources).toEqual([
      { schemas: [USER, ENTERPRISE], id: ids.cat, userName: 'cat' },
    ]);
  });
});
