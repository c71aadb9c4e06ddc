/**
 * The 200 response of POST /v1/resolve as a JSON schema: Fastify compiles it into a dedicated
 * serializer (fast-json-stringify), which is markedly cheaper than JSON.stringify on the hot
 * path, and guarantees nothing beyond these fields ever leaves the resolver.
 */
const strings = { type: 'array', items: { type: 'string' } } as const;

export const RESOLUTION_RESPONSE_SCHEMA = {
  response: {
    200: {
      type: 'object',
      properties: {
        principal: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            kind: { type: 'string' },
            tenantId: { type: 'string' },
            email: { type: 'string' },
            username: { type: 'string' },
            displayName: { type: 'string' },
            roles: strings,
            status: { type: 'string' },
            attributes: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        token: {
          type: 'object',
          properties: {
            issuer: { type: 'string' },
            subject: { type: 'string' },
            audience: strings,
            expiresAt: { type: 'string' },
            issuedAt: { type: 'string' },
            jti: { type: 'string' },
            scopes: strings,
          },
        },
        source: { type: 'string' },
      },
    },
  },
};
