import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ScimClientConfig } from '@resolver/config';
import { authenticateClient, ScimError } from '@resolver/provisioning';
import { scimAnswer, sendScimError } from './scim-response';

export const SCIM_PREFIX = '/scim/v2';

/** The SCIM endpoints (RFC 7644 §3.2) as Nest registers them, below {@link SCIM_PREFIX}. */
const ENDPOINTS = [
  '',
  '/.search',
  '/ServiceProviderConfig',
  '/ResourceTypes',
  '/ResourceTypes/:id',
  '/Schemas',
  '/Schemas/:id',
  '/Users',
  '/Users/.search',
  '/Users/:id',
  '/Groups',
  '/Groups/.search',
  '/Groups/:id',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const matcher = (endpoint: string) =>
  new RegExp(`^${endpoint.replace(/[.]/g, '\\.').replace(/:id/g, '[^/]+')}/?$`);

/**
 * The methods an endpoint answers, read from the routes Fastify holds (so the list follows the
 * controllers), for the path of a request no route took; undefined when no endpoint has it.
 */
function allowedMethods(fastify: FastifyInstance, path: string): string[] | undefined {
  const rest = path.slice(SCIM_PREFIX.length);
  const allowed = new Set<string>();
  for (const endpoint of ENDPOINTS) {
    if (!matcher(endpoint).test(rest)) continue;
    for (const method of METHODS)
      if (fastify.hasRoute({ method, url: `${SCIM_PREFIX}${endpoint}` })) allowed.add(method);
  }
  return allowed.size ? METHODS.filter((m) => allowed.has(m)) : undefined;
}

/**
 * A request under /scim/v2 no route took: 405 with `Allow` (RFC 9110 §15.5.6) when the endpoint
 * exists for other methods, after the client credential like every SCIM answer; else a SCIM 404.
 */
export function answerUnrouted(
  fastify: FastifyInstance,
  clients: readonly ScimClientConfig[],
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const path = request.url.split('?')[0] ?? '';
  const allowed = allowedMethods(fastify, path);
  if (!allowed) {
    sendScimError(reply, scimAnswer(ScimError.notFound(`no endpoint ${request.method} ${path}`)));
    return;
  }
  try {
    authenticateClient(clients, request.headers.authorization);
  } catch (error) {
    sendScimError(reply, scimAnswer(error as ScimError));
    return;
  }
  void reply.header('allow', allowed.join(', '));
  sendScimError(reply, {
    status: 405,
    detail: `${request.method} ${path}: allowed ${allowed.join(', ')}`,
  });
}
