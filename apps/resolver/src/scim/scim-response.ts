import type { FastifyReply, FastifyRequest } from 'fastify';
import { project, type ScimCaller, type ScimWritten } from '@resolver/provisioning';
import { SCIM_CONTENT_TYPE } from '../shared/errors/scim-error-body';

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

/** `attributes=a,b` / `excludedAttributes=c` as lists. */
function attributeList(value: unknown): string[] | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

export function callerOf(request: ScimRequest): ScimCaller {
  return request.scimCaller as ScimCaller;
}

/** What a use case answers for one resource. */
/**
 * One resource, projected by the request's `attributes`/`excludedAttributes`, with its ETag
 * (and, for a create, its Location).
 */
export function sendResource(
  reply: FastifyReply,
  status: 200 | 201,
  out: ScimWritten,
  q: Record<string, string | undefined>,
): void {
  const location =
    status === 201 ? (out.resource.meta as { location: string }).location : undefined;
  sendScim(
    reply,
    status,
    project(out.resource, attributeList(q.attributes), attributeList(q.excludedAttributes)),
    out.etag,
    location,
  );
}

/** A GET answer: 304 when `If-None-Match` names the current version, else the resource. */
export function sendFetched(
  reply: FastifyReply,
  out: ScimWritten,
  q: Record<string, string | undefined>,
  ifNoneMatch: string | undefined,
): void {
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === out.etag))
    return void reply.status(304).header('etag', out.etag).send();
  sendResource(reply, 200, out, q);
}

/** A list response with every resource projected like a single one. */
export function sendList(
  reply: FastifyReply,
  list: Record<string, unknown>,
  q: Record<string, string | undefined>,
): void {
  const attrs = attributeList(q.attributes);
  const excluded = attributeList(q.excludedAttributes);
  list.Resources = (list.Resources as Record<string, unknown>[]).map((r) =>
    project(r, attrs, excluded),
  );
  sendScim(reply, 200, list);
}

/** POST `.search`'s body as the query a GET list takes (attribute lists may be arrays there). */
export function searchQuery(body: Record<string, unknown> | undefined): Record<string, string> {
  const b = body ?? {};
  const join = (v: unknown) => (Array.isArray(v) ? v.join(',') : (v as string | undefined));
  return {
    ...(b as Record<string, string>),
    attributes: join(b.attributes),
    excludedAttributes: join(b.excludedAttributes),
  } as Record<string, string>;
}
