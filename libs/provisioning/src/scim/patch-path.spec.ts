import { GROUP_PATCH_SCHEMA, type PatchTarget, resolvePath, USER_PATCH_SCHEMA } from './patch-path';
import { ScimError } from './scim-error';
import { ENTERPRISE_SCHEMA as EXT, USER_SCHEMA } from './scim-schemas';

/** The resolved target in names only (definitions compared by the attribute they name). */
const shape = (t: PatchTarget) => ({
  extension: t.extension,
  def: t.def?.name,
  filter: t.filter !== undefined,
  sub: t.sub?.name,
});
const user = (text: string) => shape(resolvePath(text, USER_PATCH_SCHEMA));
const refusal = (text: string, schema = USER_PATCH_SCHEMA): string => {
  try {
    resolvePath(text, schema);
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    const { scimType, detail } = e as ScimError;
    // The answer names the path it refused (as JSON, so control characters stay visible).
    expect(detail).toContain(JSON.stringify(text));
    return `${scimType}`;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
};

describe('PATCH paths: resolved against the attribute definitions', () => {
  it.each([
    ['title', { def: 'title' }],
    ['TITLE', { def: 'title' }],
    [`${USER_SCHEMA}:title`, { def: 'title' }],
    ['name.givenName', { def: 'name', sub: 'givenName' }],
    ['emails[type eq "work"]', { def: 'emails', filter: true }],
    ['emails[type eq "a]b"].value', { def: 'emails', filter: true, sub: 'value' }],
    ['emails[emails.type eq "work" and not (primary pr)]', { def: 'emails', filter: true }],
    [EXT, { extension: EXT }],
    [EXT.toUpperCase(), { extension: EXT }],
    [`${EXT}:department`, { extension: EXT, def: 'department' }],
    [`${EXT}:manager.value`, { extension: EXT, def: 'manager', sub: 'value' }],
  ])('%s', (text, expected) => {
    expect(user(text)).toEqual({
      extension: undefined,
      def: undefined,
      filter: false,
      sub: undefined,
      ...expected,
    });
  });

  it('a Group has no extension: the enterprise URN is not one of its paths', () => {
    expect(shape(resolvePath('members[value eq "a"]', GROUP_PATCH_SCHEMA))).toMatchObject({
      def: 'members',
      filter: true,
    });
    expect(refusal(`${EXT}:department`, GROUP_PATCH_SCHEMA)).toBe('invalidPath');
    expect(refusal('userName', GROUP_PATCH_SCHEMA)).toBe('invalidPath');
  });
});

describe('PATCH paths: anything that is not a schema attribute is 400 invalidPath', () => {
  const prototypeNames = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'];

  it.each(prototypeNames)('%s in every position of a path', (name) => {
    for (const text of [
      name,
      `${name}.x`,
      `name.${name}`,
      `emails.${name}`,
      `emails[${name} pr]`,
      `emails[${name} eq "x"].value`,
      `emails[type eq "work"].${name}`,
      `emails[emails.${name} eq "x"]`,
      `${EXT}:${name}`,
      `${EXT}:manager.${name}`,
      `${USER_SCHEMA}:${name}`,
    ])
      expect({ text, scimType: refusal(text) }).toEqual({ text, scimType: 'invalidPath' });
  });

  it.each([
    ['constructor.prototype.x', 'a chain through the prototype'],
    ['name.givenName.x', 'a segment below a sub-attribute'],
    ['title.x', 'a sub-attribute of a simple attribute'],
    ['name[givenName eq "x"]', 'a filter on a single-valued attribute'],
    ['roles[value eq "x"][type eq "y"]', 'two filters'],
    ['emails[type eq "work"', 'an unterminated filter'],
    ['emails[type eq "a]"', 'a bracket inside quotes is not the close'],
    ['emails[value[type eq "x"]]', 'a filter inside a filter'],
    ['emails[type eq]', 'a filter that does not parse'],
    ['urn:acme:ext:User:x', 'an unknown schema URN'],
    [USER_SCHEMA, 'the core URN alone'],
    [`${EXT}x:department`, 'a URN that only starts like the extension'],
    ['', 'empty'],
    [' title', 'a leading space'],
    ['title ', 'a trailing space'],
    ['ti\u0000tle', 'a NUL'],
    ['1title', 'a name starting with a digit'],
    ['name..givenName', 'an empty segment'],
    ['name.', 'a trailing dot'],
  ])('%j (%s)', (text) => {
    expect(refusal(text)).toBe('invalidPath');
  });
});
