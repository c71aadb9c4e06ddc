import fc from 'fast-check';
import { applyPatch, checkPatchBody } from './patch';
import { validateResource } from './resource-input';
import { ScimError } from './scim-error';
import { ENTERPRISE_SCHEMA as EXT, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './scim-schemas';

/** Names an attacker (or a confused client) would try, and names the schemas define. */
const NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'x',
  'tid',
  'title',
  'userName',
  'active',
  'name',
  'givenName',
  'emails',
  'value',
  'type',
  'primary',
  'display',
  'members',
  'manager',
  '$ref',
  'id',
  'meta',
  'externalId',
  'displayName',
];
const URNS = [EXT, USER_SCHEMA, GROUP_SCHEMA, 'urn:acme:ext', `${EXT}:__proto__`];

const DANGEROUS = ['__proto__', 'constructor', 'prototype'];
// Weighted towards the prototype names, so most runs carry at least one.
const name = fc.oneof(
  { arbitrary: fc.constantFrom(...DANGEROUS), weight: 2 },
  { arbitrary: fc.constantFrom(...NAMES), weight: 3 },
);
const segment = fc.oneof(
  name,
  name.map((n) => n.toUpperCase()),
  fc.tuple(name, name).map(([a, b]) => `${a}[${b} eq "work"]`),
  fc.tuple(name, name).map(([a, b]) => `${a}[${b} pr]`),
);
/** Paths: dotted, bracketed, URN-prefixed, bare URNs, and a little noise. */
const path = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.')),
  fc
    .tuple(fc.constantFrom(...URNS), fc.array(segment, { minLength: 1, maxLength: 3 }))
    .map(([u, s]) => `${u}:${s.join('.')}`),
  fc.constantFrom(...URNS),
  fc.string({ maxLength: 12 }),
);

/**
 * JSON values whose object keys come from the same vocabulary (dotted and bracketed keys
 * included), built as JSON text and parsed, so `__proto__` is an own key exactly as a request
 * body's parser would produce it.
 */
const json: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<unknown>(null, true, false, 0, 1, 'x', 'work', 'True', 'a@b.c'),
    fc.array(tie('v'), { maxLength: 3 }),
    fc
      .array(fc.tuple(fc.oneof(path, fc.constantFrom(...URNS)), tie('v')), { maxLength: 4 })
      .map((entries) =>
        JSON.parse(
          `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v ?? null)}`).join(',')}}`,
        ),
      ),
  ),
})).v;

const operation = fc.record(
  {
    op: fc.constantFrom('add', 'remove', 'replace', 'Add', 'REPLACE', 'Remove'),
    path,
    value: json,
  },
  { requiredKeys: ['op'] },
);
const body = fc
  .array(operation, { minLength: 1, maxLength: 3 })
  .map(
    (Operations) => JSON.parse(JSON.stringify({ schemas: [PATCH_SCHEMA], Operations })) as unknown,
  );

const user = {
  schemas: [USER_SCHEMA, EXT],
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'ann',
  active: true,
  name: { givenName: 'Ann' },
  emails: [{ value: 'ann@work.example', type: 'work', primary: true }],
  [EXT]: { department: 'R&D', manager: { value: 'm' } },
  meta: { resourceType: 'User' },
};
const group = {
  schemas: [GROUP_SCHEMA],
  id: 'g-1',
  displayName: 'G',
  members: [{ value: 'a' }],
  meta: { resourceType: 'Group' },
};

const snapshot = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort().join(),
  fn: Object.getOwnPropertyNames(Function.prototype).sort().join(),
  array: Object.getOwnPropertyNames(Array.prototype).sort().join(),
  probe: [({} as Record<string, unknown>).x, ({} as Record<string, unknown>).tid],
});

describe('SCIM PATCH engine (property): no body reaches a prototype', () => {
  it.each([
    ['User', user],
    ['Group', group],
  ] as const)(
    'arbitrary PATCH bodies on a %s never change a prototype and only ever throw ScimError',
    (kind, resource) => {
      const before = snapshot();
      fc.assert(
        fc.property(body, (b) => {
          try {
            const patched = applyPatch(resource, checkPatchBody(b, 10), kind);
            validateResource(patched, kind, { maxValues: 100 });
          } catch (error) {
            if (!(error instanceof ScimError)) throw error;
            expect(error.code).toBe('invalid');
          }
          expect(snapshot()).toEqual(before);
        }),
        { numRuns: 3000 },
      );
    },
  );
});
