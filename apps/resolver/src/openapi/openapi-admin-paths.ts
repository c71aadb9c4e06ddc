import { IMPORT_MAX_ROWS, listUsersInput } from '@resolver/provisioning';
import {
  ADMIN,
  ADMIN_ERRORS,
  body,
  json,
  type Json,
  lifecycle,
  op,
  problem,
  queryParameters,
  ref,
  userId,
} from './openapi-parts';

/** The /admin/v1 paths of the OpenAPI document (schemas in its components). */
export const ADMIN_PATHS: Record<string, Json> = {
  '/admin/v1/users': {
    post: op('Create a user', {
      tags: ['admin'],
      operationId: 'userCreate',
      security: ADMIN,
      requestBody: body(ref('CreateUser')),
      responses: {
        201: { description: 'created', content: json(ref('User')) },
        ...ADMIN_ERRORS,
      },
    }),
    get: op('List users (cursor paging)', {
      tags: ['admin'],
      operationId: 'userList',
      security: ADMIN,
      parameters: queryParameters(listUsersInput),
      responses: {
        200: { description: 'a page', content: json(ref('UserPage')) },
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/users/import': {
    post: op(`Create or update up to ${IMPORT_MAX_ROWS} users (dryRun: a rolled-back run)`, {
      tags: ['admin'],
      operationId: 'userImport',
      security: ADMIN,
      requestBody: body({
        type: 'object',
        properties: {
          rows: { type: 'array', maxItems: IMPORT_MAX_ROWS, items: ref('ImportRow') },
          dryRun: { type: 'boolean' },
        },
        required: ['rows'],
      }),
      responses: {
        200: { description: 'one result per row', content: json(ref('ImportResults')) },
        413: problem('body larger than the import limit'),
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/users/{id}': {
    get: op('Get a user', {
      tags: ['admin'],
      operationId: 'userGet',
      security: ADMIN,
      parameters: [userId],
      responses: {
        200: { description: 'the user', content: json(ref('User')) },
        ...ADMIN_ERRORS,
      },
    }),
    patch: op('Update a user', {
      tags: ['admin'],
      operationId: 'userUpdate',
      security: ADMIN,
      parameters: [userId],
      requestBody: body(ref('UpdateUser')),
      responses: {
        200: { description: 'the user', content: json(ref('User')) },
        ...ADMIN_ERRORS,
      },
    }),
    delete: op('Soft-delete a user', {
      tags: ['admin'],
      operationId: 'userDelete',
      security: ADMIN,
      parameters: [userId],
      responses: {
        200: { description: 'the user', content: json(ref('User')) },
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/users/{id}/disable': lifecycle('Disable', 'Disable a user (USER_DISABLED)'),
  '/admin/v1/users/{id}/enable': lifecycle(
    'Enable',
    "Enable a user: status active, overriding every writer's decision (SCIM's, the import's)",
  ),
  '/admin/v1/users/{id}/lock': lifecycle('Lock', 'Lock a user (USER_LOCKED)'),
  '/admin/v1/users/{id}/unlock': lifecycle(
    'Unlock',
    'Lift every lock; a deactivation that stands (SCIM, import) keeps the user disabled',
  ),
  '/admin/v1/users/{id}/delete': lifecycle('SoftDelete', 'Soft-delete a user (USER_DELETED)'),
  '/admin/v1/users/{id}/restore': lifecycle('Restore', 'Restore a soft-deleted user'),
  '/admin/v1/users/{id}/sign-out': lifecycle(
    'SignOut',
    'Sign out everywhere: tokens issued before now are TOKEN_REVOKED',
  ),
  '/admin/v1/users/{id}/identities': {
    get: op("A user's external identities", {
      tags: ['admin'],
      operationId: 'identityList',
      security: ADMIN,
      parameters: [userId],
      responses: {
        200: { description: 'the identities', content: json(ref('Identities')) },
        ...ADMIN_ERRORS,
      },
    }),
    post: op('Link an external identity (issuer, tenant, subject) to the user', {
      tags: ['admin'],
      operationId: 'identityLink',
      security: ADMIN,
      parameters: [userId],
      requestBody: body(ref('LinkIdentity')),
      responses: {
        201: { description: 'linked', content: json(ref('Identity')) },
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/users/{id}/identities/{identityId}': {
    delete: op('Unlink an external identity', {
      tags: ['admin'],
      operationId: 'identityUnlink',
      security: ADMIN,
      parameters: [
        userId,
        { name: 'identityId', in: 'path', required: true, schema: { type: 'string' } },
      ],
      responses: { 204: { description: 'unlinked' }, ...ADMIN_ERRORS },
    }),
  },
  '/admin/v1/tokens/revoke': {
    post: op('Put a token (issuer, jti) on the deny-list until it expires', {
      tags: ['admin'],
      operationId: 'tokenRevoke',
      security: ADMIN,
      requestBody: body(ref('Revoke')),
      responses: {
        200: { description: 'revoked', content: json(ref('Revoked')) },
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/audit/identifiers': {
    get: op('Stored identifiers the canonical rules refuse in a token, each with its fix', {
      tags: ['admin'],
      operationId: 'identifierAudit',
      security: ADMIN,
      parameters: [
        {
          name: 'limit',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 1, maximum: 10000 },
        },
      ],
      responses: {
        200: { description: 'the findings', content: json(ref('IdentifierAudit')) },
        ...ADMIN_ERRORS,
      },
    }),
  },
  '/admin/v1/caches/flush': {
    post: op('Every replica drops its caches', {
      tags: ['admin'],
      operationId: 'cachesFlush',
      security: ADMIN,
      responses: {
        202: {
          description: 'flushed',
          content: json({
            type: 'object',
            properties: { flushed: { type: 'boolean' } },
            required: ['flushed'],
          }),
        },
        ...ADMIN_ERRORS,
      },
    }),
  },
};
