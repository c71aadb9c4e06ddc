import {
  attr,
  type AttributeDef,
  type AttributeOptions,
  complex,
  type SchemaDef,
} from './scim-schemas';

export const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** Discovery resources are the service provider's own: every attribute is readOnly. */
const ro = (o: AttributeOptions = {}): AttributeOptions => ({ mutability: 'readOnly', ...o });
const supported = (name: string, more: AttributeDef[] = []) =>
  complex(
    name,
    [attr('supported', 'boolean', ro({ required: true })), ...more],
    ro({ required: true }),
  );

/** The characteristics of one attribute (RFC 7643 §7), as the Schema schema lists them. */
const characteristics = (): AttributeDef[] => [
  attr('name', 'string', ro({ required: true, caseExact: true })),
  attr(
    'type',
    'string',
    ro({
      required: true,
      canonicalValues: [
        'string',
        'complex',
        'boolean',
        'decimal',
        'integer',
        'dateTime',
        'reference',
        'binary',
      ],
    }),
  ),
  attr('multiValued', 'boolean', ro({ required: true })),
  attr('description', 'string', ro()),
  attr('required', 'boolean', ro()),
  attr('canonicalValues', 'string', ro({ multiValued: true, caseExact: true })),
  attr('caseExact', 'boolean', ro()),
  attr(
    'mutability',
    'string',
    ro({ caseExact: true, canonicalValues: ['readOnly', 'readWrite', 'immutable', 'writeOnly'] }),
  ),
  attr(
    'returned',
    'string',
    ro({ caseExact: true, canonicalValues: ['always', 'never', 'default', 'request'] }),
  ),
  attr(
    'uniqueness',
    'string',
    ro({ caseExact: true, canonicalValues: ['none', 'server', 'global'] }),
  ),
  attr('referenceTypes', 'string', ro({ multiValued: true, caseExact: true })),
];

/**
 * The schemas of the discovery resources themselves (RFC 7643 §8.7.2), so `/Schemas` describes
 * everything this service provider answers with.
 */
export const DISCOVERY_SCHEMAS: readonly SchemaDef[] = [
  {
    id: SPC_SCHEMA,
    name: 'Service Provider Configuration',
    description: "Schema for representing the service provider's configuration",
    attributes: [
      attr('documentationUri', 'reference', ro({ referenceTypes: ['external'] })),
      supported('patch'),
      supported('bulk', [
        attr('maxOperations', 'integer', ro({ required: true })),
        attr('maxPayloadSize', 'integer', ro({ required: true })),
      ]),
      supported('filter', [attr('maxResults', 'integer', ro({ required: true }))]),
      supported('changePassword'),
      supported('sort'),
      supported('etag'),
      complex(
        'authenticationSchemes',
        [
          attr(
            'type',
            'string',
            ro({
              required: true,
              canonicalValues: ['oauth', 'oauth2', 'oauthbearertoken', 'httpbasic', 'httpdigest'],
            }),
          ),
          attr('name', 'string', ro({ required: true })),
          attr('description', 'string', ro({ required: true })),
          attr('specUri', 'reference', ro({ referenceTypes: ['external'] })),
          attr('documentationUri', 'reference', ro({ referenceTypes: ['external'] })),
          attr('primary', 'boolean', ro()),
        ],
        ro({ required: true, multiValued: true }),
      ),
    ],
  },
  {
    id: RESOURCE_TYPE_SCHEMA,
    name: 'ResourceType',
    description: 'Specifies the schema that describes a SCIM resource type',
    attributes: [
      attr('id', 'string', ro()),
      attr('name', 'string', ro({ required: true })),
      attr('description', 'string', ro()),
      attr('endpoint', 'reference', ro({ required: true, referenceTypes: ['uri'] })),
      attr('schema', 'reference', ro({ required: true, referenceTypes: ['uri'] })),
      complex(
        'schemaExtensions',
        [
          attr('schema', 'reference', ro({ required: true, referenceTypes: ['uri'] })),
          attr('required', 'boolean', ro({ required: true })),
        ],
        ro({ multiValued: true }),
      ),
    ],
  },
  {
    id: SCHEMA_SCHEMA,
    name: 'Schema',
    description: 'Specifies the schema attribute',
    attributes: [
      attr('id', 'string', ro({ required: true })),
      attr('name', 'string', ro()),
      attr('description', 'string', ro()),
      // RFC 7643 §8.7.2 nests subAttributes in attributes: the one complex-in-complex it defines.
      complex(
        'attributes',
        [
          ...characteristics(),
          complex('subAttributes', characteristics(), ro({ multiValued: true })),
        ],
        ro({ required: true, multiValued: true }),
      ),
    ],
  },
];
