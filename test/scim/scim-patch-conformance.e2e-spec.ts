import SCIMMY from 'scimmy';
import { ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const EXT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Op = { op: string; path?: string; value?: unknown };
const patchOp = (...Operations: Op[]) => ({ schemas: [PATCH], Operations });

const start = (userName: string) => ({
  schemas: [USER, EXT],
  userName,
  externalId: `ext-${userName}`,
  title: 'engineer',
  name: { givenName: 'Ann', familyName: 'Anderson' },
  emails: [
    { value: `${userName}@work.example`, type: 'work', primary: true },
    { value: `${userName}@home.example`, type: 'home' },
  ],
  [EXT]: { department: 'R&D', employeeNumber: '7' },
});

/** What both sides hold, without what only a server assigns or an empty leftover object. */
const comparable = (r: Record<string, unknown>): Record<string, unknown> => {
  const { id: _i, meta: _m, groups: _g, active: _a, schemas: _s, ...rest } = r;
  return JSON.parse(
    JSON.stringify(rest, (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0
        ? undefined
        : v,
    ),
  ) as Record<string, unknown>;
};

/**
 * RFC 7644 §3.5.2 over HTTP, issue 23 findings 1 to 3: the URN-keyed forms apply exactly as
 * SCIMMY (scimmyjs, an implementation nobody here wrote) applies them in memory; a path that
 * names nothing, read-only and required attributes, and `active` are refused with the RFC's
 * scimType and change nothing.
 */
describe('SCIM PATCH conformance', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    (SCIMMY.Schemas.User as any).extend(SCIMMY.Schemas.EnterpriseUser);
    f = await ScimFixture.start('scim_patch_conformance');
  });
  afterAll(async () => {
    await f?.close();
  });

  let n = 0;
  const fresh = async () => {
    const res = await f.scim('POST', '/Users', start(`u${++n}`));
    expect(res.status).toBe(201);
    return res.body as Record<string, unknown> & { id: string; meta: { version: string } };
  };

  it.each<[string, Op[]]>([
    [
      'add by extension URN attribute path',
      [{ op: 'add', path: `${EXT}:costCenter`, value: 'cc' }],
    ],
    [
      'replace by extension URN attribute path',
      [{ op: 'replace', path: `${EXT}:department`, value: 'Ops' }],
    ],
    [
      'path-less add keyed by the extension URN',
      [{ op: 'add', value: { [EXT]: { division: 'Div' } } }],
    ],
    [
      'path-less replace keyed by the extension URN',
      [{ op: 'replace', value: { [EXT]: { department: 'X' } } }],
    ],
    [
      'add with the extension URN as the path',
      [{ op: 'add', path: EXT, value: { organization: 'Org' } }],
    ],
    [
      'replace with the extension URN as the path',
      [{ op: 'replace', path: EXT, value: { costCenter: 'c2' } }],
    ],
    ['remove of an extension attribute', [{ op: 'remove', path: `${EXT}:department` }]],
    [
      'replace through a value filter',
      [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'w@x.example' }],
    ],
    ['remove through a value filter', [{ op: 'remove', path: 'emails[type eq "home"]' }]],
    ['remove of a sub-attribute', [{ op: 'remove', path: 'name.givenName' }]],
    [
      'add to a multi-valued attribute',
      [{ op: 'add', path: 'emails', value: [{ value: 'o@x.example', type: 'other' }] }],
    ],
    [
      'path-less replace with a dotted key',
      [{ op: 'replace', value: { title: 'T', 'name.familyName': 'F' } }],
    ],
  ])('%s: the server answers what SCIMMY applies', async (_name, ops) => {
    const created = await fresh();
    const body = patchOp(...ops);
    const expected = await new SCIMMY.Messages.PatchOp(body as any).apply(
      new SCIMMY.Schemas.User(JSON.parse(JSON.stringify(created)), 'out') as any,
    );
    const res = await f.scim('PATCH', `/Users/${created.id}`, body);
    expect(res.status).toBe(200);
    expect(comparable(res.body)).toEqual(comparable(JSON.parse(JSON.stringify(expected))));
    // And it is stored: a GET answers the same.
    expect(comparable((await f.scim('GET', `/Users/${created.id}`)).body)).toEqual(
      comparable(res.body),
    );
  });

  // Where SCIMMY stops short of the RFC, the RFC's text is the expectation.
  it('replace of a singular complex attribute merges its sub-attributes (RFC 7644 §3.5.2.3; SCIMMY replaces it whole)', async () => {
    const created = await fresh();
    const res = await f.scim(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'replace', path: 'name', value: { givenName: 'Zed' } }),
    );
    expect(res.body.name).toEqual({ givenName: 'Zed', familyName: 'Anderson' });
  });

  it('a core-URN-prefixed path names the core attribute (RFC 7644 §3.10; SCIMMY refuses it)', async () => {
    const created = await fresh();
    const res = await f.scim(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'replace', path: `${USER}:title`, value: 'lead' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.title).toBe('lead');
  });

  it('remove of the extension URN drops the whole extension', async () => {
    const created = await fresh();
    const res = await f.scim('PATCH', `/Users/${created.id}`, patchOp({ op: 'remove', path: EXT }));
    expect(res.status).toBe(200);
    expect(res.body[EXT]).toBeUndefined();
    expect(res.body.schemas).toEqual([USER]);
  });

  it('remove of an attribute that is known but unassigned is 200 and leaves it unassigned (RFC 7644 §3.5.2.2)', async () => {
    const created = await fresh();
    const res = await f.scim(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'remove', path: 'nickName' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.nickName).toBeUndefined();
  });

  describe('refusals change nothing', () => {
    let userId: string;
    let groupId: string;
    beforeAll(async () => {
      userId = (await fresh()).id;
      const g = await f.scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Conformance',
        members: [{ value: userId }],
      });
      groupId = g.body.id as string;
    });

    it.each<[string, 'Users' | 'Groups', Op, string]>([
      [
        'remove of an unknown attribute',
        'Users',
        { op: 'remove', path: 'bogusAttr' },
        'invalidPath',
      ],
      [
        'replace of an unknown attribute',
        'Users',
        { op: 'replace', path: 'bogusAttr', value: 1 },
        'invalidPath',
      ],
      [
        'remove of an unknown extension attribute',
        'Users',
        { op: 'remove', path: `${EXT}:bogus` },
        'invalidPath',
      ],
      [
        'remove of an unknown schema',
        'Users',
        { op: 'remove', path: 'urn:acme:User:x' },
        'invalidPath',
      ],
      [
        'remove of an unknown Group attribute',
        'Groups',
        { op: 'remove', path: 'bogusAttr' },
        'invalidPath',
      ],
      [
        'the extension on a Group',
        'Groups',
        { op: 'add', path: EXT, value: { department: 'x' } },
        'invalidPath',
      ],
      [
        'remove through a filter that matches nothing',
        'Users',
        { op: 'remove', path: 'emails[type eq "none"]' },
        'noTarget',
      ],
      [
        'remove of a member not in the group',
        'Groups',
        { op: 'remove', path: 'members[value eq "nobody"]' },
        'noTarget',
      ],
      ['remove of active', 'Users', { op: 'remove', path: 'active' }, 'mutability'],
      ['remove of userName (required)', 'Users', { op: 'remove', path: 'userName' }, 'mutability'],
      [
        'remove of displayName (required)',
        'Groups',
        { op: 'remove', path: 'displayName' },
        'mutability',
      ],
      ['replace of id', 'Users', { op: 'replace', path: 'id', value: 'mine' }, 'mutability'],
      [
        'replace of meta.created',
        'Users',
        { op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' },
        'mutability',
      ],
      [
        'add to groups (readOnly)',
        'Users',
        { op: 'add', path: 'groups', value: [{ value: 'g' }] },
        'mutability',
      ],
      [
        'path-less id that differs',
        'Groups',
        { op: 'replace', value: { id: 'other', displayName: 'X' } },
        'mutability',
      ],
      [
        'replace of a member display',
        'Groups',
        { op: 'replace', path: 'members.display', value: 'x' },
        'mutability',
      ],
      [
        'replace of a member value (immutable)',
        'Groups',
        { op: 'replace', path: `members[value eq "x"].value`, value: 'y' },
        'mutability',
      ],
    ])('%s on %s is 400 %s', async (_name, type, op, scimType) => {
      const path = type === 'Users' ? `/Users/${userId}` : `/Groups/${groupId}`;
      const before = await f.scim('GET', path);
      const res = await f.scim('PATCH', path, patchOp(op));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(res.body).toMatchObject({ status: '400', scimType });
      expect(res.body.detail).toEqual(expect.any(String));
      const after = await f.scim('GET', path);
      expect(after.body).toEqual(before.body);
    });
  });
});
