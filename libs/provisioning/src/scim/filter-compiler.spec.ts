import { renderPredicate } from '@resolver/identity';
import { compileFilter } from './filter-compiler';
import { ScimError } from './scim-error';

const sql = (filter: string, kind: 'User' | 'Group' = 'User') => {
  const params: unknown[] = [];
  return {
    text: renderPredicate(
      compileFilter(filter, kind),
      kind === 'User' ? 'users' : 'groups',
      params,
    ),
    params,
  };
};
const scimType = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    return (e as ScimError).scimType;
  }
  throw new Error('expected a ScimError');
};

describe('SCIM filter -> parameterised SQL', () => {
  it.each([
    'userName eq "a\'; DROP TABLE users; --"',
    'emails[type eq "work" and value co "@x.com"]',
    'emails[type eq "work"].value eq "a@x.com"',
    'not (title sw "V") or name.familyName ew "son"',
    'meta.lastModified gt "2011-05-13T04:42:34Z" and active eq true',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr',
    'USERNAME Eq "x" AND (emails.primary eq true)',
    'title ne null',
  ])('%s: every value and key is a bind parameter', (filter) => {
    const { text, params } = sql(filter);
    for (const p of params) {
      // Keys travel as text[] parameters; values as scalars: neither appears in the SQL text.
      for (const v of Array.isArray(p) ? p : [p])
        if (typeof v === 'string' && v.length > 2) expect(text).not.toContain(`'${v}'`);
      if (typeof p === 'string' && p.length > 2) expect(text).not.toContain(p);
    }
    expect(text).not.toMatch(/DROP|'work'|@x\.com/);
  });

  it('binds the element filter and the sub-attribute comparison to the same element', () => {
    const { text } = sql('emails[type eq "work"].value eq "a@x.com"');
    expect(text.match(/EXISTS/g)).toHaveLength(1);
  });

  it('groups: displayName and members', () => {
    expect(sql('displayName eq "Eng"', 'Group').text).toContain('lower(g.display_name)');
    expect(sql('members[value eq "00000000-0000-4000-8000-000000000000"]', 'Group').text).toContain(
      'scim_group_members',
    );
  });

  it.each([
    'userName eq',
    'userName xx "a"',
    'shoeSize eq 3',
    'active eq "yes"',
    'meta.lastModified gt "yesterday"',
    'emails[type eq "work"',
    'name eq "x"',
    'emails[value[type eq "a"]]',
    'urn:acme:User:x eq "1"',
    '(userName eq "a"',
    '',
  ])('%j is 400 invalidFilter', (filter) => {
    expect(scimType(() => sql(filter))).toBe('invalidFilter');
  });
});
