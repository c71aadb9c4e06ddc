import { z } from 'zod';

/**
 * The 200 body of POST /v1/resolve (and the shape forward-auth derives its headers from): the
 * proto-JSON form of ResolveSubjectResponse: the HTTP side of the wire contract. One zod schema:
 * the OpenAPI document and Fastify's response schema are derived from it, and the CLI prints a
 * resolution's fields in its order.
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
