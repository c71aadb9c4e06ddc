import { resolutionBody } from '@resolver/contract';
import { jsonSchemaOf } from '../shared/json-schema';

/**
 * Fastify compiles the response schema into a dedicated serializer (fast-json-stringify),
 * markedly cheaper than JSON.stringify on the hot path, and nothing beyond these fields ever
 * leaves the resolver.
 */
export const RESOLUTION_RESPONSE_SCHEMA = {
  response: { 200: jsonSchemaOf(resolutionBody) },
};
