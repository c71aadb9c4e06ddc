import { ScimDiscovery } from './discovery';
import { SCHEMA_SCHEMA } from './discovery-schemas';
import { COMMON_ATTRIBUTES } from './scim-schemas';

const BASE = 'https://resolver.test/scim/v2';
const discovery = new ScimDiscovery({ maxResults: 10 } as ConstructorParameters<
  typeof ScimDiscovery
>[0]);

type Attr = Record<string, unknown>;
const TYPES = [
  'string',
  'boolean',
  'decimal',
  'integer',
  'dateTime',
  'reference',
  'binary',
  'complex',
];
const CHARACTERISTICS = {
  mutability: ['readOnly', 'readWrite', 'immutable', 'writeOnly'],
  returned: ['always', 'never', 'default', 'request'],
  uniqueness: ['none', 'server', 'global'],
};
const ATTRNAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;

/**
 * Every attribute of every schema `/Schemas` serves, as served (plus the common attributes the
 * resources carry), with the path that names it: generated from the data, so a new attribute is
 * walked without anyone adding it here.
 */
function servedAttributes(): [string, Attr, boolean][] {
  const schemas = (discovery.schemas(BASE).Resources as Record<string, unknown>[]).map((s) => ({
    id: s.id as string,
    attributes: JSON.parse(JSON.stringify(s.attributes)) as Attr[],
  }));
  schemas.push({
    id: 'common',
    attributes: JSON.parse(JSON.stringify(COMMON_ATTRIBUTES)) as Attr[],
  });
  const out: [string, Attr, boolean][] = [];
  const walk = (attrs: Attr[], at: string, nested: boolean, schema: string) => {
    for (const a of attrs) {
      const path = `${at}.${String(a.name)}`;
      out.push([path, a, nested && schema !== SCHEMA_SCHEMA]);
      if (Array.isArray(a.subAttributes)) walk(a.subAttributes as Attr[], path, true, schema);
    }
  };
  for (const s of schemas) walk(s.attributes, s.id, false, s.id);
  return out;
}

const resourceTypes = (discovery.resourceTypes(BASE).Resources as { id: string }[]).map(
  (r) => r.id,
);

describe('SCIM schemas as data: every served attribute is valid by RFC 7643 §7', () => {
  const all = servedAttributes();

  it('walks every schema, the discovery schemas of RFC 7643 §8.7.2 included', () => {
    const ids = (discovery.schemas(BASE).Resources as { id: string }[]).map((s) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
        'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
        'urn:ietf:params:scim:schemas:core:2.0:Schema',
      ]),
    );
    // Every schema a ResourceType names is served.
    for (const id of resourceTypes) {
      const rt = discovery.resourceType(id, BASE) as {
        schema: string;
        schemaExtensions: { schema: string }[];
      };
      for (const s of [rt.schema, ...rt.schemaExtensions.map((e) => e.schema)])
        expect(ids).toContain(s);
    }
    expect(all.length).toBeGreaterThan(100);
  });

  it.each(all.map(([path, a, nested]) => [path, a, nested] as const))('%s', (_path, a, nested) => {
    // RFC 7643 §7: the characteristics every attribute definition carries.
    expect(a).toEqual(
      expect.objectContaining({
        name: expect.stringMatching(ATTRNAME),
        type: expect.any(String),
        multiValued: expect.any(Boolean),
        description: expect.any(String),
        required: expect.any(Boolean),
        caseExact: expect.any(Boolean),
      }),
    );
    expect(TYPES).toContain(a.type);
    for (const [key, allowed] of Object.entries(CHARACTERISTICS)) expect(allowed).toContain(a[key]);
    if (a.type === 'reference') {
      // RFC 7643 §2.3.7 / §7: a reference names what it may point at and is case exact.
      expect(a.referenceTypes).toEqual(expect.any(Array));
      expect((a.referenceTypes as unknown[]).length).toBeGreaterThan(0);
      for (const t of a.referenceTypes as unknown[])
        expect(['external', 'uri', ...resourceTypes]).toContain(t);
      expect(a.caseExact).toBe(true);
    } else expect(a.referenceTypes).toBeUndefined();
    if (a.type === 'complex') {
      expect((a.subAttributes as unknown[] | undefined)?.length).toBeGreaterThan(0);
      // RFC 7643 §2.3.8: no complex attribute inside a complex one (the Schema schema excepted).
      expect(nested).toBe(false);
    } else expect(a.subAttributes).toBeUndefined();
    if (a.canonicalValues !== undefined) {
      expect(a.canonicalValues).toEqual(expect.any(Array));
      for (const v of a.canonicalValues as unknown[]) expect(typeof v).toBe('string');
    }
    const names = ((a.subAttributes as Attr[] | undefined) ?? []).map((s) =>
      String(s.name).toLowerCase(),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('attribute names are unique in each schema (case-insensitive)', () => {
    for (const s of discovery.schemas(BASE).Resources as { id: string; attributes: Attr[] }[]) {
      const names = s.attributes.map((a) => String(a.name).toLowerCase());
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('an unknown schema is 404', () => {
    expect(() => discovery.schema('urn:nope', BASE)).toThrow(
      expect.objectContaining({ code: 'notFound' }),
    );
  });
});
