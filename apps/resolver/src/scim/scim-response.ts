import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ERROR_SCHEMA,
  project,
  type ScimCaller,
  type ScimError,
  type ScimErrorCode,
  type ScimType,
  type ScimWritten,
} from '@resolver/provisioning';

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

/** What an RFC 7644 §3.12 error says: the HTTP status, its `scimType` and the detail. */
export interface ScimAnswer {
  readonly status: number;
  readonly scimType?: ScimType;
  readonly detail: string;
}

/** Each kind of SCIM refusal as its HTTP status (RFC 7644 §3.12). */
const SCIM_STATUS: Readonly<Record<ScimErrorCode, number>> = {
  invalid: 400,
  unauthorized: 401,
  notFound: 404,
  conflict: 409,
  preconditionFailed: 412,
  notImplemented: 501,
};

/** A use case's refusal as its answer. */
export function scimAnswer(error: ScimError): ScimAnswer {
  return { status: SCIM_STATUS[error.code], scimType: error.scimType, detail: error.detail };
}

/** An RFC 7644 §3.12 error body. */
export function sendScimError(reply: FastifyReply, error: ScimAnswer): void {
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
