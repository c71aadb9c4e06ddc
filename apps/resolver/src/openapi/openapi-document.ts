import {
  createUserInput,
  identityInput,
  importRowInput,
  revokeInput,
  updateUserInput,
} from '@resolver/provisioning';
import { resolutionBody } from '@resolver/contract';
import { jsonSchemaOf } from '../shared/json-schema';
import { ADMIN_PATHS } from './openapi-admin-paths';
import { SSF_PATHS } from './openapi-ssf-paths';
import { ADMIN, body, json, type Json, op, problem, REFUSALS, ref } from './openapi-parts';
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

/**
 * The OpenAPI 3.1 document of every HTTP route the resolver serves (resolve, forward-auth,
 * diagnose, admin, health, metrics), built once from the zod schemas: the request schemas are
 * the ones that validate admin input; the response schemas are the ones the e2e suite checks
 * real answers against (`test/openapi.e2e-spec.ts`).
 */

/**
 * What the request a sender-constrained token came with carried (POST /v1/resolve, and
 * /v1/diagnose to predict it): all optional, a plain bearer token needs none of them.
 */
const BOUND_REQUEST = {
  dpopProof: {
    type: 'string',
    description: 'the DPoP proof (RFC 9449) of the request; else the DPoP header',
  },
  method: { type: 'string', description: "the request's HTTP method (the proof's htm)" },
  uri: {
    type: 'string',
    description: "the request's absolute URI (the proof's htu; query and fragment ignored)",
  },
  clientCertificate: {
    type: 'string',
    description:
      "the request's client certificate, PEM or URL-encoded PEM (RFC 8705), believed only from a trusted sender",
  },
} as const;
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
                ...BOUND_REQUEST,
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
            requestBody: body({
              type: 'object',
              properties: {
                token: { type: 'string' },
                scheme: {
                  type: 'string',
                  enum: ['Bearer', 'DPoP'],
                  description: 'the scheme the token was sent with (a DPoP-bound token needs DPoP)',
                },
                ...BOUND_REQUEST,
              },
            }),
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
      ...ADMIN_PATHS,
      ...SSF_PATHS,
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
