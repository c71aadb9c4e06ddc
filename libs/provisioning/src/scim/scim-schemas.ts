/** SCIM schema URNs (RFC 7643). */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export type AttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';

/** One attribute definition, in the shape RFC 7643 §7 publishes it. */
export interface AttributeDef {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly returned: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness: 'none' | 'server' | 'global';
  readonly subAttributes?: readonly AttributeDef[];
  readonly referenceTypes?: readonly string[];
  readonly canonicalValues?: readonly string[];
}

export interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDef[];
}

export type AttributeOptions = Partial<Omit<AttributeDef, 'name' | 'type' | 'subAttributes'>>;
type Options = AttributeOptions;
/** An attribute with RFC 7643 §7's defaults; a reference is case exact (RFC 7643 §2.3.7). */
export const attr = (name: string, type: AttributeType, o: Options = {}): AttributeDef => ({
  name,
  type,
  multiValued: false,
  description: name,
  required: false,
  caseExact: type === 'reference',
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...o,
});
export const complex = (name: string, subs: AttributeDef[], o: Options = {}): AttributeDef => ({
  ...attr(name, 'complex', o),
  subAttributes: subs,
});
/** A multi-valued attribute of the usual value/display/type/primary shape. */
const plural = (
  name: string,
  valueType: AttributeType = 'string',
  value: Options = {},
): AttributeDef =>
  complex(
    name,
    [
      attr('value', valueType, value),
      attr('display', 'string'),
      attr('type', 'string'),
      attr('primary', 'boolean'),
    ],
    { multiValued: true },
  );

export const USER_ATTRIBUTES: readonly AttributeDef[] = [
  attr('userName', 'string', { required: true, uniqueness: 'server' }),
  complex('name', [
    attr('formatted', 'string'),
    attr('familyName', 'string'),
    attr('givenName', 'string'),
    attr('middleName', 'string'),
    attr('honorificPrefix', 'string'),
    attr('honorificSuffix', 'string'),
  ]),
  attr('displayName', 'string'),
  attr('nickName', 'string'),
  attr('profileUrl', 'reference', { referenceTypes: ['external'] }),
  attr('title', 'string'),
  attr('userType', 'string'),
  attr('preferredLanguage', 'string'),
  attr('locale', 'string'),
  attr('timezone', 'string'),
  attr('active', 'boolean'),
  attr('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
  plural('emails'),
  plural('phoneNumbers'),
  plural('ims'),
  plural('photos', 'reference', { referenceTypes: ['external'] }),
  complex(
    'addresses',
    [
      attr('formatted', 'string'),
      attr('streetAddress', 'string'),
      attr('locality', 'string'),
      attr('region', 'string'),
      attr('postalCode', 'string'),
      attr('country', 'string'),
      attr('type', 'string'),
      attr('primary', 'boolean'),
    ],
    { multiValued: true },
  ),
  complex(
    'groups',
    [
      attr('value', 'string', { mutability: 'readOnly' }),
      attr('$ref', 'reference', { mutability: 'readOnly', referenceTypes: ['User', 'Group'] }),
      attr('display', 'string', { mutability: 'readOnly' }),
      attr('type', 'string', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
    ],
    { multiValued: true, mutability: 'readOnly' },
  ),
  plural('entitlements'),
  plural('roles'),
  plural('x509Certificates', 'binary'),
];

export const ENTERPRISE_ATTRIBUTES: readonly AttributeDef[] = [
  attr('employeeNumber', 'string'),
  attr('costCenter', 'string'),
  attr('organization', 'string'),
  attr('division', 'string'),
  attr('department', 'string'),
  complex('manager', [
    attr('value', 'string'),
    attr('$ref', 'reference', { referenceTypes: ['User'] }),
    attr('displayName', 'string', { mutability: 'readOnly' }),
  ]),
];

export const GROUP_ATTRIBUTES: readonly AttributeDef[] = [
  attr('displayName', 'string', { required: true, uniqueness: 'server' }),
  complex(
    'members',
    [
      attr('value', 'string', { mutability: 'immutable' }),
      attr('$ref', 'reference', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
      attr('display', 'string', { mutability: 'readOnly' }),
      attr('type', 'string', { mutability: 'immutable', canonicalValues: ['User'] }),
    ],
    { multiValued: true },
  ),
];

/** Attributes every resource has (RFC 7643 §3.1); answered from columns, never stored. */
export const COMMON_ATTRIBUTES: readonly AttributeDef[] = [
  attr('id', 'string', { caseExact: true, mutability: 'readOnly', returned: 'always' }),
  attr('externalId', 'string', { caseExact: true }),
  complex(
    'meta',
    [
      attr('resourceType', 'string', { mutability: 'readOnly' }),
      attr('created', 'dateTime', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', { mutability: 'readOnly' }),
      attr('location', 'reference', { mutability: 'readOnly', referenceTypes: ['uri'] }),
      attr('version', 'string', { mutability: 'readOnly' }),
    ],
    { mutability: 'readOnly' },
  ),
];

export const SCHEMAS: readonly SchemaDef[] = [
  { id: USER_SCHEMA, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES },
  {
    id: ENTERPRISE_SCHEMA,
    name: 'EnterpriseUser',
    description: 'Enterprise User',
    attributes: ENTERPRISE_ATTRIBUTES,
  },
  { id: GROUP_SCHEMA, name: 'Group', description: 'Group', attributes: GROUP_ATTRIBUTES },
];

/** Case-insensitive lookup (SCIM attribute names are case-insensitive). */
export function findAttribute(
  defs: readonly AttributeDef[],
  name: string,
): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}
