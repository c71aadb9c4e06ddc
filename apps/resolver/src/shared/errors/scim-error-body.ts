import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScimClientConfig } from '@resolver/config';
import { ScimConflict, StoreRefusal, UnrenderablePredicate } from '@resolver/identity';
import {
  authenticateClient,
  ERROR_SCHEMA,
  ScimError,
  type ScimErrorCode,
  type ScimType,
} from '@resolver/provisioning';
import { ResolutionError } from '@resolver/reasons';
import type { Failure } from './failure';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** What an RFC 7644 §3.12 error says: the HTTP status, its `scimType` and the detail. */
interface ScimAnswer {
  readonly status: number;
  readonly scimType?: ScimType;
  readonly detail: string;
  /** A 405's `Allow`. */
  readonly allow?: string;
}

/** Each kind of SCIM refusal as its HTTP status (RFC 7644 §3.12): the one table. */
const SCIM_STATUS: Readonly<Record<ScimErrorCode, number>> = {
  invalid: 400,
  unauthorized: 401,
  notFound: 404,
  conflict: 409,
  preconditionFailed: 412,
  notImplemented: 501,
};

/** The methods a SCIM endpoint can have (a 405's `Allow` lists no HEAD or OPTIONS). */
const SCIM_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

const INTERNAL: ScimAnswer = { status: 500, detail: 'internal error' };

/** A use case's refusal as its answer, by its kind. */
const answerOf = (error: ScimError): ScimAnswer => ({
  status: SCIM_STATUS[error.code],
  scimType: error.scimType,
  detail: error.detail,
});

/**
 * A SCIM request's failure as its answer, or undefined for a bug: the use cases' ScimError by
 * its kind, a unique index as 409 uniqueness, a value the store cannot hold or a filter it cannot
 * render as 400 (the request can never succeed: not an outage), a store outage as 503, and
 * Fastify's body errors (too large, not JSON, wrong content type) with their status — never SQL
 * or a stack trace. Also what labels `resolver_scim_requests_total{result}`.
 */
function scimAnswerFor(failure: Failure): ScimAnswer | undefined {
  switch (failure.kind) {
    case 'refusal': {
      const error = failure.error;
      if (error instanceof ScimError) return answerOf(error);
      if (error instanceof ScimConflict)
        return { status: 409, scimType: 'uniqueness', detail: error.message };
      if (error instanceof StoreRefusal)
        return {
          status: 400,
          scimType: 'invalidValue',
          detail: 'a value cannot be stored (out of range or too long)',
        };
      if (error instanceof UnrenderablePredicate)
        return { status: 400, scimType: 'invalidFilter', detail: `filter: ${error.message}` };
      if (error instanceof ResolutionError)
        return { status: 503, detail: 'the user store is unavailable' };
      return undefined;
    }
    case 'http':
      return {
        status: failure.status,
        scimType: failure.status === 400 ? 'invalidSyntax' : undefined,
        detail:
          failure.status === 413 ? 'the body is larger than server.bodyLimitBytes' : failure.detail,
      };
    case 'unrouted':
      return { status: 404, detail: failure.detail };
    case 'bug':
      return INTERNAL;
  }
}

/** The `result` label of a SCIM request's failure: its scimType, else its status. */
export function scimResult(failure: Failure): string {
  const answer = scimAnswerFor(failure) ?? INTERNAL;
  return answer.scimType ?? String(answer.status);
}

/** An RFC 7644 §3.12 error body. */
function sendScimError(reply: FastifyReply, error: ScimAnswer): void {
  if (error.allow) void reply.header('allow', error.allow);
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

/**
 * A request no route took: a SCIM 404, or — when its endpoint has other methods — a 405 with
 * `Allow` (RFC 9110 §15.5.6), after the client's credential like every SCIM answer.
 */
function unroutedAnswer(
  methods: readonly string[],
  request: FastifyRequest,
  clients: readonly ScimClientConfig[],
): ScimAnswer {
  const path = request.url.split('?', 1)[0] ?? '';
  const allow = methods.filter((m) => SCIM_METHODS.has(m)).join(', ');
  if (!allow) return answerOf(ScimError.notFound(`no endpoint ${request.method} ${path}`));
  try {
    authenticateClient(clients, request.headers.authorization);
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    return answerOf(error);
  }
  return { status: 405, detail: `${request.method} ${path}: allowed ${allow}`, allow };
}

/**
 * Renders a failure under /scim/v2 as an RFC 7644 §3.12 error. False for a refusal SCIM has no
 * answer for: the caller counts it as the bug it is.
 */
export function renderScim(
  reply: FastifyReply,
  failure: Failure,
  request: FastifyRequest,
  clients: readonly ScimClientConfig[],
): boolean {
  const answer =
    failure.kind === 'unrouted'
      ? unroutedAnswer(failure.allow, request, clients)
      : scimAnswerFor(failure);
  if (!answer) return false;
  sendScimError(reply, answer);
  return true;
}
