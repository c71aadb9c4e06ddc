import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScimCaller } from '@resolver/provisioning';
import { ERROR_SCHEMA, type ScimError } from '@resolver/provisioning';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** The request, once the interceptor has authenticated its SCIM client. */
export type ScimRequest = FastifyRequest & { scimCaller?: ScimCaller };

/** Sends a SCIM resource (or list) as application/scim+json, with its ETag when it has one. */
export function sendScim(
  reply: FastifyReply,
  status: number,
  body: unknown,
  etag?: string,
  location?: string,
): void {
  if (etag) void reply.header('etag', etag);
  if (location) void reply.header('location', location);
  void reply.status(status).type(SCIM_CONTENT_TYPE).send(body);
}

/** An RFC 7644 §3.12 error body. */
export function sendScimError(reply: FastifyReply, error: ScimError): void {
  if (error.status === 401) void reply.header('www-authenticate', 'Bearer realm="scim"');
  // The IdP retries a provisioning call; tell it the outage is worth a retry soon.
  if (error.status === 503) void reply.header('retry-after', '1');
  void reply
    .status(error.status)
    .type(SCIM_CONTENT_TYPE)
    .send({
      schemas: [ERROR_SCHEMA],
      status: String(error.status),
      ...(error.scimType ? { scimType: error.scimType } : {}),
      detail: error.detail,
    });
}
