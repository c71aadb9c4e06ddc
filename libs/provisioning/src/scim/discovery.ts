import type { ScimConfig } from '@resolver/config';
import {
  DISCOVERY_SCHEMAS,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SPC_SCHEMA,
} from './discovery-schemas';
import { ScimError } from './scim-error';
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_SCHEMA,
  GROUP_SCHEMA,
  LIST_SCHEMA,
  SCHEMAS,
  USER_SCHEMA,
} from './scim-schemas';

/** Every schema `/Schemas` serves: the resources' and the discovery resources' own (RFC 7643 §7, §8.7.2). */
const SERVED = [...SCHEMAS, ...DISCOVERY_SCHEMAS];

const list = (resources: unknown[]) => ({
  schemas: [LIST_SCHEMA],
  totalResults: resources.length,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

/** RFC 7644 §4 discovery: what this service provider supports, from the same tables it runs on. */
export class ScimDiscovery {
  constructor(private readonly config: ScimConfig) {}

  serviceProviderConfig(baseUrl: string): Record<string, unknown> {
    return {
      schemas: [SPC_SCHEMA],
      documentationUri: 'https://github.com/subject-resolver#provisioning-with-scim',
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: this.config.maxResults },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'Bearer credential',
          description: "Each SCIM client's own bearer credential (scim.clients[].tokenSha256)",
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
    };
  }

  resourceTypes(baseUrl: string): Record<string, unknown> {
    return list([this.resourceType('User', baseUrl), this.resourceType('Group', baseUrl)]);
  }

  resourceType(id: string, baseUrl: string): Record<string, unknown> {
    if (id === 'User')
      return {
        schemas: [RESOURCE_TYPE_SCHEMA],
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        description: 'User Account',
        schema: USER_SCHEMA,
        schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
        meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
      };
    if (id === 'Group')
      return {
        schemas: [RESOURCE_TYPE_SCHEMA],
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        description: 'Group',
        schema: GROUP_SCHEMA,
        schemaExtensions: [],
        meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
      };
    throw ScimError.notFound(`no ResourceType ${id}`);
  }

  schemas(baseUrl: string): Record<string, unknown> {
    return list(SERVED.map((s) => this.schema(s.id, baseUrl)));
  }

  schema(id: string, baseUrl: string): Record<string, unknown> {
    const s = SERVED.find((x) => x.id.toLowerCase() === id.toLowerCase());
    if (!s) throw ScimError.notFound(`no Schema ${id}`);
    // externalId is the resources' own common attribute (RFC 7643 §3.1), listed where a client writes it.
    const common =
      s.id === USER_SCHEMA || s.id === GROUP_SCHEMA
        ? COMMON_ATTRIBUTES.filter((a) => a.name === 'externalId')
        : [];
    return {
      schemas: [SCHEMA_SCHEMA],
      id: s.id,
      name: s.name,
      description: s.description,
      attributes: [...s.attributes, ...common],
      meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
    };
  }
}
