import { applyPatch, checkPatchBody } from './patch';
import { ScimError } from './scim-error';
import { ENTERPRISE_SCHEMA as EXT, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './scim-schemas';

type Op = { op: string; path?: string; value?: unknown };
const body = (...Operations: Op[]) => ({ schemas: [PATCH_SCHEMA], Operations });

const user = () => ({
  schemas: [USER_SCHEMA, EXT],
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'ann',
  active: true,
  title: 'engineer',
  name: { givenName: 'Ann', familyName: 'Anderson' },
  emails: [
    { value: 'ann@work.example', type: 'work', primary: true },
    { value: 'ann@home.example', type: 'home' },
  ],
  [EXT]: { department: 'R&D', manager: { value: 'mgr-1' } },
  meta: { resourceType: 'User', version: 'W/"1"' },
});
const group = () => ({
  schemas: [GROUP_SCHEMA],
  id: 'g-1',
  displayName: 'Engineering',
  members: [{ value: 'a' }, { value: 'b' }],
  meta: { resourceType: 'Group' },
});

const patchUser = (...ops: Op[]) => applyPatch(user(), checkPatchBody(body(...ops), 100), 'User');
const patchGroup = (...ops: Op[]) =>
  applyPatch(group(), checkPatchBody(body(...ops), 100), 'Group');
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    return `${(e as ScimError).scimType}`;
  }
  throw new Error('expected a ScimError');
};

describe('SCIM PATCH engine: operations by path form', () => {
  it.each([
    ['add', 'title', 'boss', { title: 'boss' }],
    ['replace', 'TITLE', 'boss', { title: 'boss' }],
    ['add', 'nickName', 'Babs', { nickName: 'Babs' }],
    [
      'add',
      'name.middleName',
      'M',
      { name: { givenName: 'Ann', familyName: 'Anderson', middleName: 'M' } },
    ],
    [
      'replace',
      'name',
      { givenName: 'Anna' },
      { name: { givenName: 'Anna', familyName: 'Anderson' } },
    ],
    ['replace', `${USER_SCHEMA}:userName`, 'anna', { userName: 'anna' }],
    [
      'replace',
      `${USER_SCHEMA}:name.givenName`,
      'Anna',
      { name: { givenName: 'Anna', familyName: 'Anderson' } },
    ],
    [
      'replace',
      `${EXT}:department`,
      'Sales',
      { [EXT]: { department: 'Sales', manager: { value: 'mgr-1' } } },
    ],
    [
      'add',
      `${EXT.toLowerCase()}:costCenter`,
      'cc',
      { [EXT]: { department: 'R&D', manager: { value: 'mgr-1' }, costCenter: 'cc' } },
    ],
    [
      'add',
      `${EXT}:manager`,
      'mgr-2',
      { [EXT]: { department: 'R&D', manager: { value: 'mgr-2' } } },
    ],
    [
      'replace',
      `${EXT}:manager.value`,
      'mgr-3',
      { [EXT]: { department: 'R&D', manager: { value: 'mgr-3' } } },
    ],
    [
      'add',
      EXT,
      { division: 'D' },
      { [EXT]: { department: 'R&D', manager: { value: 'mgr-1' }, division: 'D' } },
    ],
    [
      'replace',
      EXT,
      { department: 'Ops' },
      { [EXT]: { department: 'Ops', manager: { value: 'mgr-1' } } },
    ],
  ])('%s %s', (op, path, value, expected) => {
    expect(patchUser({ op, path, value })).toMatchObject(expected);
  });

  it('ops in any case; the resource given is not changed', () => {
    const before = user();
    const out = applyPatch(
      before,
      checkPatchBody(body({ op: 'RePlAcE', path: 'title', value: 'x' }), 9),
      'User',
    );
    expect(out.title).toBe('x');
    expect(before.title).toBe('engineer');
  });

  it('add to a multi-valued attribute appends, skips a value already there, and moves primary', () => {
    const out = patchUser({
      op: 'add',
      path: 'emails',
      value: [
        { value: 'ann@work.example', type: 'work', primary: true },
        { value: 'new@x', primary: true },
      ],
    });
    expect(out.emails).toEqual([
      { value: 'ann@work.example', type: 'work', primary: false },
      { value: 'ann@home.example', type: 'home' },
      { value: 'new@x', primary: true },
    ]);
  });

  it('replace of a multi-valued attribute replaces every value', () => {
    expect(patchUser({ op: 'replace', path: 'emails', value: [{ value: 'z@x' }] }).emails).toEqual([
      { value: 'z@x' },
    ]);
  });

  it('value filters: sub-attribute of the matches, whole matches, and the Entra equality add', () => {
    expect(
      patchUser({ op: 'replace', path: 'emails[type eq "WORK"].value', value: 'w@x' }).emails,
    ).toEqual([
      { value: 'w@x', type: 'work', primary: true },
      { value: 'ann@home.example', type: 'home' },
    ]);
    expect(
      patchUser({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h@x' } }).emails,
    ).toEqual([{ value: 'ann@work.example', type: 'work', primary: true }, { value: 'h@x' }]);
    expect(
      patchUser({
        op: 'add',
        path: 'addresses[type eq "work" and country eq "NL"].locality',
        value: 'Utrecht',
      }).addresses,
    ).toEqual([{ type: 'work', country: 'NL', locality: 'Utrecht' }]);
    expect(
      patchUser({ op: 'replace', value: { 'phoneNumbers[type eq "work"].value': '+1 555' } })
        .phoneNumbers,
    ).toEqual([{ type: 'work', value: '+1 555' }]);
  });

  it('path-less add/replace: every key is a path (names, dotted, URN-prefixed, the extension URN)', () => {
    const out = patchUser({
      op: 'replace',
      value: {
        Title: 't',
        'name.givenName': 'G',
        [`${EXT}:division`]: 'Div',
        [EXT]: { department: 'Dept', 'manager.value': 'm9' },
        schemas: [USER_SCHEMA, EXT],
        id: 'u-1',
      },
    });
    expect(out).toMatchObject({
      title: 't',
      name: { givenName: 'G', familyName: 'Anderson' },
      [EXT]: { department: 'Dept', division: 'Div', manager: { value: 'm9' } },
    });
  });

  it('remove: attributes, sub-attributes, filters, the extension as a whole, absent values', () => {
    expect(patchUser({ op: 'remove', path: 'title' }).title).toBeUndefined();
    expect(patchUser({ op: 'remove', path: 'name.givenName' }).name).toEqual({
      familyName: 'Anderson',
    });
    expect(patchUser({ op: 'remove', path: 'emails[type eq "home"]' }).emails).toEqual([
      { value: 'ann@work.example', type: 'work', primary: true },
    ]);
    expect(patchUser({ op: 'remove', path: `${EXT}:manager` })[EXT]).toEqual({ department: 'R&D' });
    expect(patchUser({ op: 'remove', path: EXT })[EXT]).toBeUndefined();
    // RFC 7644 §3.5.2.2: the attribute is unassigned afterwards; already unassigned is no change.
    expect(patchUser({ op: 'remove', path: 'nickName' }).nickName).toBeUndefined();
    expect(patchUser({ op: 'remove', path: 'externalId' }).externalId).toBeUndefined();
  });

  it('Groups: members added, removed by filter (Okta) and by value (Entra ID), display dropped', () => {
    expect(
      patchGroup({ op: 'add', path: 'members', value: [{ value: 'c', display: 'C' }] }).members,
    ).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    expect(patchGroup({ op: 'remove', path: 'members[value eq "a"]' }).members).toEqual([
      { value: 'b' },
    ]);
    expect(patchGroup({ op: 'Remove', path: 'members', value: [{ value: 'b' }] }).members).toEqual([
      { value: 'a' },
    ]);
    expect(patchGroup({ op: 'remove', path: 'members' }).members).toBeUndefined();
    expect(
      patchGroup({ op: 'replace', value: { id: 'g-1', displayName: 'Admins' } }).displayName,
    ).toBe('Admins');
  });
});

describe('SCIM PATCH engine: refusals', () => {
  it.each([
    ['__proto__.x', 'invalidPath'],
    ['constructor.prototype.x', 'invalidPath'],
    ['constructor', 'invalidPath'],
    ['prototype', 'invalidPath'],
    ['name.__proto__', 'invalidPath'],
    ['name.constructor', 'invalidPath'],
    ['emails[type eq "work"].__proto__', 'invalidPath'],
    ['emails[__proto__ eq "x"].value', 'invalidPath'],
    ['emails[constructor pr]', 'invalidPath'],
    [`${EXT}:__proto__`, 'invalidPath'],
    [`${EXT}:constructor.prototype`, 'invalidPath'],
    ['bogusAttr', 'invalidPath'],
    ['urn:acme:ext:User:x', 'invalidPath'],
    [USER_SCHEMA, 'invalidPath'],
    ['name[givenName eq "x"]', 'invalidPath'],
    ['emails[type eq "work"', 'invalidPath'],
    ['emails[type eq "work"].value.x', 'invalidPath'],
    ['title ', 'invalidPath'],
  ])('a path %s is 400 %s for add, replace and remove', (path, scimType) => {
    for (const op of ['add', 'replace', 'remove'])
      expect(refusal(() => patchUser({ op, path, value: 'x' }))).toBe(scimType);
  });

  it.each([
    [{ op: 'add', value: { '__proto__.x': 1 } }, 'invalidPath'],
    [{ op: 'add', value: JSON.parse('{"__proto__": {"x": 1}}') }, 'invalidPath'],
    [{ op: 'replace', value: { 'constructor.prototype.x': 1 } }, 'invalidPath'],
    [{ op: 'replace', value: { [EXT]: JSON.parse('{"__proto__": {"x": 1}}') } }, 'invalidPath'],
    [{ op: 'replace', value: { [EXT]: { [`${USER_SCHEMA}:title`]: 'x' } } }, 'invalidPath'],
    [{ op: 'add', path: 'name', value: JSON.parse('{"__proto__": {"x": 1}}') }, 'invalidValue'],
    [
      { op: 'add', path: 'emails', value: [JSON.parse('{"value": "a", "constructor": 1}')] },
      'invalidValue',
    ],
    [{ op: 'add', path: 'title', value: { x: 1 } }, 'invalidValue'],
    [{ op: 'add', value: 'not an object' }, 'invalidValue'],
    [{ op: 'replace', value: { schemas: ['urn:other'] } }, 'invalidValue'],
  ])('value keys are schema attributes: %j is 400 %s', (op, scimType) => {
    expect(refusal(() => patchUser(op))).toBe(scimType);
  });

  it.each([
    [{ op: 'replace', path: 'id', value: 'x' }],
    [{ op: 'remove', path: 'id' }],
    [{ op: 'replace', path: 'meta.version', value: 'x' }],
    [{ op: 'add', path: 'groups', value: [{ value: 'g' }] }],
    [{ op: 'replace', value: { id: 'another' } }],
    [{ op: 'remove', path: 'userName' }],
    [{ op: 'replace', path: 'userName', value: null }],
    [{ op: 'remove', path: 'active' }],
    [{ op: 'replace', value: { active: null } }],
    [{ op: 'replace', path: `${EXT}:manager.displayName`, value: 'x' }],
  ])('read-only, required and always-assigned User attributes: %j is 400 mutability', (op) => {
    expect(refusal(() => patchUser(op))).toBe('mutability');
  });

  it.each([
    [{ op: 'remove', path: 'displayName' }],
    [{ op: 'replace', path: 'members[value eq "a"].value', value: 'z' }],
    [{ op: 'remove', path: 'members[value eq "a"].value' }],
    [{ op: 'replace', path: 'members[value eq "a"].display', value: 'z' }],
    [{ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }],
  ])('read-only, immutable and required Group attributes: %j is 400 mutability', (op) => {
    expect(refusal(() => patchGroup(op))).toBe('mutability');
  });

  it.each([
    [{ op: 'remove', path: 'emails[type eq "other"]' }],
    [{ op: 'remove', path: 'emails[type eq "other"].value' }],
    [{ op: 'replace', path: 'emails[type ne "work" and type ne "home"].value', value: 'x' }],
    [{ op: 'add', path: 'emails[value co "nowhere"]', value: { type: 'x' } }],
  ])('a filter that matches nothing: %j is 400 noTarget', (op) => {
    expect(refusal(() => patchUser(op))).toBe('noTarget');
  });

  it('remove by value of a member not in the group is 400 noTarget; unknown groups attributes invalidPath', () => {
    expect(
      refusal(() => patchGroup({ op: 'remove', path: 'members', value: [{ value: 'zz' }] })),
    ).toBe('noTarget');
    expect(refusal(() => patchGroup({ op: 'add', path: 'userName', value: 'x' }))).toBe(
      'invalidPath',
    );
    expect(refusal(() => patchGroup({ op: 'add', path: EXT, value: {} }))).toBe('invalidPath');
  });

  it.each([
    [{}, 'invalidSyntax'],
    [{ schemas: [PATCH_SCHEMA], Operations: [] }, 'invalidSyntax'],
    [body({ op: 'move', path: 'x' }), 'invalidSyntax'],
    [body({ op: 'remove' }), 'noTarget'],
    [body({ op: 'add', path: 'title' }), 'invalidValue'],
    [
      body({ op: 'add', path: `${'x'.repeat(1025)} (a 1025-character path)`, value: 1 }),
      'invalidPath',
    ],
    [body({ op: 'add', path: 7 as unknown as string, value: 1 }), 'invalidPath'],
    [
      {
        schemas: [PATCH_SCHEMA],
        Operations: Array.from({ length: 3 }, () => ({ op: 'add', path: 'title', value: 'x' })),
      },
      'tooMany',
    ],
  ])('the PatchOp body #%# is refused with its scimType', (b, scimType) => {
    expect(refusal(() => checkPatchBody(b, 2))).toBe(scimType);
  });

  it('inherited properties of a body are never read', () => {
    const inherited = Object.create({ op: 'add', path: 'title', value: 'x' }) as object;
    expect(
      refusal(() => checkPatchBody({ schemas: [PATCH_SCHEMA], Operations: [inherited] }, 9)),
    ).toBe('invalidSyntax');
  });
});
