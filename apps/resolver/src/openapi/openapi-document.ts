import type { z } from 'zod';
import {
  createUserInput,
  identityInput,
  importRowInput,
  IMPORT_MAX_ROWS,
  listUsersInput,
  revokeInput,
  updateUserInput,
} from '@resolver/identity';
import { jsonSchemaOf, resolutionBody } from '../http/resolution-schema';
import {
  auditBody,
  diagnosisBody,
  identitiesBody,
  identityBody,
  importBody,
  problemBody,
  revokedBody,
  userBody,
  userPageBody,
} from './response-schemas';

type Json = Record<string, unknown>;

const PROBLEM = 'application/problem+json';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const problem = (description: string) => ({
  description,
  content: { [PROBLEM]: { schema: ref('Problem') } },
});

/** The refusals every token-taking route can answer, from the reason table. */
const REFUSALS = {
  401: problem(
    'refused: a token or user reason (TOKEN_*, SUBJECT_*, USER_NOT_FOUND, …); WWW-Authenticate: Bearer',
  ),
  403: problem('refused: USER_DISABLED, USER_LOCKED or USER_DELETED'),
  503: problem('USER_STORE_UNAVAILABLE or KEYS_UNAVAILABLE; Retry-After: 1'),
};

/** The admin routes' own answers: the field that was refused, missing ids, conflicts. */
const ADMIN_ERRORS = {
  400: problem('invalid input: `field` names it'),
  401: problem('the admin credential is missing or wrong'),
  404: problem('no such user or identity (or the admin API is disabled)'),
  409: problem('conflict: a live user already holds the email, username or identity'),
  503: problem('the user store is unavailable'),
};

const ADMIN = [{ adminBearer: [] as string[] }];
const userId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

function body(schema: Json, required = true) {
  return { required, content: json(schema) };
}

function op(summary: string, extra: Json): Json {
  return { summary, ...extra };
}

/** Query parameters from a zod object schema (the one that validates the query). */
function queryParameters(schema: z.ZodType): Json[] {
  const s = jsonSchemaOf(schema, 'input') as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema: p,
  }));
}

const lifecycle = (verb: string, what: string): Json => ({
  post: op(what, {
    tags: ['admin'],
    security: ADMIN,
    parameters: [userId],
    responses: {
      200: { description: 'the user after the change', content: json(ref('User')) },
      ...ADMIN_ERRORS,
    },
    operationId: `user${verb}`,
  }),
});

/**
 * The OpenAPI 3.1 document of every HTTP route the resolver serves (resolve, forward-auth,
 * diagnose, admin, health, metrics), built once from the zod schemas: the request schemas are
 * the ones that validate admin input; the response schemas are the ones the e2e suite checks
 * real answers against (`test/openapi.e2e-spec.ts`).
 */
export function buildOpenApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Subject resolver',
      version,
      description:
        'Who is the caller behind this bearer token? Every refusal carries one stable reason code (README "Reasons").',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'the token to resolve',
        },
        adminBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'the admin credential (ADMIN_TOKEN)',
        },
      },
      schemas: {
        Resolution: jsonSchemaOf(resolutionBody),
        Problem: jsonSchemaOf(problemBody),
        Diagnosis: jsonSchemaOf(diagnosisBody),
        User: jsonSchemaOf(userBody),
        UserPage: jsonSchemaOf(userPageBody),
        Identity: jsonSchemaOf(identityBody),
        Identities: jsonSchemaOf(identitiesBody),
        ImportResults: jsonSchemaOf(importBody),
        Revoked: jsonSchemaOf(revokedBody),
        IdentifierAudit: jsonSchemaOf(auditBody),
        CreateUser: jsonSchemaOf(createUserInput, 'input'),
        UpdateUser: jsonSchemaOf(updateUserInput, 'input'),
        LinkIdentity: jsonSchemaOf(identityInput, 'input'),
        ImportRow: jsonSchemaOf(importRowInput, 'input'),
        Revoke: jsonSchemaOf(revokeInput, 'input'),
      },
    },
    paths: {
      '/v1/resolve': {
        post: op('Resolve the caller behind a token', {
          tags: ['resolve'],
          operationId: 'resolve',
          security: [{ bearerToken: [] }, {}],
          requestBody: body(
            {
              type: 'object',
              properties: {
                token: {
                  type: 'string',
                  description: 'the compact JWT; wins over the Authorization header',
                },
              },
            },
            false,
          ),
          responses: {
            200: { description: 'the caller', content: json(ref('Resolution')) },
            400: problem('malformed body'),
            ...REFUSALS,
          },
        }),
      },
      '/v1/authz': {
        get: op(
          'Forward-auth (nginx auth_request, Traefik ForwardAuth, Envoy HTTP ext_authz); any method, also on /v1/authz/*',
          {
            tags: ['authz'],
            operationId: 'forwardAuth',
            security: [{ bearerToken: [] }],
            responses: {
              200: {
                description:
                  'allowed: the identity headers (x-user-id, x-user-email, x-tenant-id, x-user-roles, x-principal-kind)',
              },
              401: {
                description: 'Unauthorized (generic text body)',
                content: { 'text/plain': { schema: { type: 'string' } } },
              },
              403: {
                description: 'Forbidden (generic text body)',
                content: { 'text/plain': { schema: { type: 'string' } } },
              },
              503: {
                description: 'Service Unavailable (generic text body)',
                content: { 'text/plain': { schema: { type: 'string' } } },
              },
            },
          },
        ),
      },
      '/v1/diagnose': {
        post: op(
          'Explain what ResolveSubject would answer for a token, step by step (no side effects)',
          {
            tags: ['diagnose'],
            operationId: 'diagnose',
            security: ADMIN,
            requestBody: body({ type: 'object', properties: { token: { type: 'string' } } }),
            responses: {
              200: {
                description: 'the diagnosis (the verdict is data)',
                content: json(ref('Diagnosis')),
              },
              401: problem('the admin credential is missing or wrong'),
            },
          },
        ),
      },
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
      '/admin/v1/users/{id}/enable': lifecycle('Enable', 'Enable a user'),
      '/admin/v1/users/{id}/lock': lifecycle('Lock', 'Lock a user (USER_LOCKED)'),
      '/admin/v1/users/{id}/unlock': lifecycle('Unlock', 'Unlock a user'),
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
      '/health/live': {
        get: op('Liveness', {
          tags: ['health'],
          operationId: 'live',
          responses: { 200: { description: 'the process answers' } },
        }),
      },
      '/health/ready': {
        get: op(
          'Readiness: the database answers and migrations are applied (keys reported, never failing it)',
          {
            tags: ['health'],
            operationId: 'ready',
            responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } },
          },
        ),
      },
      '/metrics': {
        get: op('Prometheus text exposition', {
          tags: ['metrics'],
          operationId: 'metrics',
          responses: {
            200: {
              description: 'metrics',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        }),
      },
    },
  };
}
