import { project } from './resource-output';
import { validateResource } from './resource-input';
import { ScimError } from './scim-error';
import { ENTERPRISE_SCHEMA, USER_SCHEMA } from './scim-schemas';

const limits = { maxValues: 3 };
const user = (extra: Record<string, unknown>) => ({
  schemas: [USER_SCHEMA],
  userName: 'u',
  ...extra,
});
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    return `${(e as ScimError).scimType}: ${(e as ScimError).detail}`;
  }
  throw new Error('expected a ScimError');
};

describe('SCIM resource validation', () => {
  it('folds attribute names to their canonical case and drops readOnly, writeOnly and null values', () => {
    const { attributes, active } = validateResource(
      user({
        USERNAME: 'Ann',
        NAME: { GivenName: 'Ann' },
        Emails: [{ VALUE: 'a@x', Primary: 'True' }],
        id: 'client-chosen',
        meta: { version: 'x' },
        groups: [{ value: 'g' }],
        password: 'secret',
        nickName: null,
        Active: 'FALSE',
      }),
      'User',
      limits,
    );
    expect(attributes).toEqual({
      userName: 'Ann',
      name: { givenName: 'Ann' },
      emails: [{ value: 'a@x', primary: true }],
    });
    expect(active).toBe(false);
  });

  it('keeps the enterprise extension and fully qualified core names', () => {
    const { attributes } = validateResource(
      {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        [`${USER_SCHEMA}:userName`]: 'q',
        [ENTERPRISE_SCHEMA]: { Department: 'R&D', manager: { value: 'm' } },
      },
      'User',
      limits,
    );
    expect(attributes).toEqual({
      userName: 'q',
      [ENTERPRISE_SCHEMA]: { department: 'R&D', manager: { value: 'm' } },
    });
  });

  it.each([
    [user({ shoeSize: 1 }), 'invalidSyntax: shoeSize: unknown attribute'],
    [user({ name: { nickname: 'x' } }), 'invalidSyntax: name.nickname: unknown attribute'],
    [user({ 'urn:x:y': {} }), 'invalidSyntax: urn:x:y: unknown schema extension'],
    [{ ...user({}), schemas: ['urn:x'] }, 'invalidSyntax: schemas: must list'],
    [user({ active: 'yes' }), 'invalidValue: active: must be a boolean'],
    [user({ emails: [{ value: 1 }] }), 'invalidValue: emails[0].value: must be a string'],
    [user({ emails: 'a@x' }), 'invalidValue: emails[0]: must be an object'],
    [
      user({
        emails: [
          { value: 'a', primary: true },
          { value: 'b', primary: true },
        ],
      }),
      'invalidValue: emails: at most one value may be primary',
    ],
    [user({ emails: [{}, {}, {}, {}] }), 'tooMany: emails: more than 3 values'],
    [user({ userName: '' }), 'invalidValue: userName: required'],
    [user({ userName: 'x'.repeat(256) }), 'invalidValue: userName: longer than 255'],
    [user({ externalId: 5 }), 'invalidValue: externalId: must be a non-empty string'],
    [user({ title: 'x'.repeat(2049) }), 'invalidValue: title: longer than 2048'],
    [[1], 'invalidSyntax: the body must be a JSON object'],
  ])('%j -> %s', (body, message) => {
    expect(refusal(() => validateResource(body, 'User', limits))).toContain(message);
  });
});

describe('attributes / excludedAttributes', () => {
  const r = {
    schemas: [USER_SCHEMA],
    id: '1',
    userName: 'u',
    name: { givenName: 'g', familyName: 'f' },
    emails: [{ value: 'a', type: 'work' }],
    meta: { resourceType: 'User' },
  };
  it('returns id and schemas always, sub-attributes and multi-valued sub-attributes on request', () => {
    expect(project(r, ['NAME.givenName', 'emails.value'], undefined)).toEqual({
      schemas: [USER_SCHEMA],
      id: '1',
      name: { givenName: 'g' },
      emails: [{ value: 'a' }],
    });
    expect(project(r, [`${USER_SCHEMA}:userName`], undefined)).toEqual({
      schemas: [USER_SCHEMA],
      id: '1',
      userName: 'u',
    });
  });
  it('excludes what is named, never id or schemas', () => {
    expect(project(r, undefined, ['id', 'meta', 'name.familyName', 'emails'])).toEqual({
      schemas: [USER_SCHEMA],
      id: '1',
      userName: 'u',
      name: { givenName: 'g' },
    });
  });
});

describe('SCIM resource validation: keys that name a prototype', () => {
  it.each([
    `{"schemas":["${USER_SCHEMA}"],"userName":"u","__proto__":{"tid":"x"}}`,
    `{"schemas":["${USER_SCHEMA}"],"userName":"u","${USER_SCHEMA}:__proto__":{"tid":"x"}}`,
    `{"schemas":["${USER_SCHEMA}"],"userName":"u","constructor":{"prototype":{"tid":"x"}}}`,
    `{"schemas":["${USER_SCHEMA}"],"userName":"u","name":{"__proto__":{"tid":"x"}}}`,
    `{"schemas":["${USER_SCHEMA}"],"userName":"u","${ENTERPRISE_SCHEMA}":{"__proto__":{"tid":"x"}}}`,
  ])('%s is refused as the unknown attribute it is, never dropped or followed', (text) => {
    expect(refusal(() => validateResource(JSON.parse(text), 'User', limits))).toMatch(
      /^invalidSyntax: .*unknown attribute$/,
    );
    expect(({} as Record<string, unknown>).tid).toBeUndefined();
  });
});
