import { z } from 'zod';

/**
 * The 200 body of POST /v1/resolve (and the shape forward-auth derives its headers from): the
 * proto-JSON form of ResolveSubjectResponse. One zod schema, from which both the OpenAPI
 * document and Fastify's response schema are derived.
 */
export const resolutionBody = z.strictObject({
  principal: z.strictObject({
    id: z.string(),
    kind: z.enum(['user', 'service']),
    tenantId: z.string(),
    email: z.string(),
    username: z.string(),
    displayName: z.string(),
    roles: z.array(z.string()),
    status: z.enum(['active', 'disabled', 'locked']),
    attributes: z.record(z.string(), z.string()),
  }),
  token: z.strictObject({
    issuer: z.string(),
    subject: z.string(),
    audience: z.array(z.string()),
    expiresAt: z.string().optional().describe('RFC 3339; absent when the token has no exp'),
    issuedAt: z.string().optional().describe('RFC 3339; absent when the token has no iat'),
    jti: z.string(),
    scopes: z.array(z.string()),
  }),
  source: z.enum(['CACHE', 'STORE', 'PROVISIONED']),
});

/** A zod schema as a plain JSON Schema (draft 2020-12) without the `$schema` marker. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output') {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

/**
 * Fastify compiles the response schema into a dedicated serializer (fast-json-stringify),
 * markedly cheaper than JSON.stringify on the hot path, and nothing beyond these fields ever
 * leaves the resolver.
 */
export const RESOLUTION_RESPONSE_SCHEMA = {
  response: { 200: jsonSchemaOf(resolutionBody) },
};
