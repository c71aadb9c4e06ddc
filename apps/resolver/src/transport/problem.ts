import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorSurface, InternalErrors } from '@resolver/observability';
import { isResolutionError, presentReason, type ReasonCode } from '@resolver/reasons';

/** RFC 9457 problem document with the resolver's `reason` extension. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  reason?: ReasonCode;
  detail?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The headers every HTTP-shaped refusal of a reason carries (problem documents, forward-auth
 * and ext_authz denials): `WWW-Authenticate` on 401, `Retry-After` on 503.
 */
export function challengeHeaders(reason: ReasonCode, realm: string): Record<string, string> {
  const { httpStatus, retryAfterSeconds } = presentReason(reason);
  const headers: Record<string, string> = {};
  if (httpStatus === 401) {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    headers['www-authenticate'] =
      reason === 'TOKEN_MISSING'
        ? `Bearer realm="${realm}"`
        : `Bearer realm="${realm}", error="invalid_token"`;
  }
  if (httpStatus === 503) headers['retry-after'] = String(retryAfterSeconds ?? 1);
  return headers;
}

/** The problem document and headers for a reason. Titles are fixed text: no request data. */
export function problemFor(
  reason: ReasonCode,
  realm: string,
): { problem: Problem; headers: Record<string, string> } {
  const { httpStatus, title } = presentReason(reason);
  const headers = challengeHeaders(reason, realm);
  return {
    problem: { type: `urn:${realm}:reason:${reason}`, title, status: httpStatus, reason },
    headers,
  };
}

/** Sends a problem document: `type` defaults to about:blank, `status` is filled in. */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  body: Omit<Problem, 'type' | 'status'> & { type?: string; field?: string },
  headers: Record<string, string> = {},
): void {
  void reply
    .status(status)
    .headers(headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ type: 'about:blank', status, ...body });
}

/** The HTTP status phrase (RFC 9110) as a problem title. */
function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Called with an unexpected error (a bug) before its bare 500 is sent: counts and logs it. */
export type OnUnexpected = (error: unknown) => void;

/**
 * Any failure on the resolve surface: a resolution failure as the problem document of its
 * reason, anything else as {@link sendFrameworkProblem} sends it.
 */
export function sendFailure(
  reply: FastifyReply,
  error: unknown,
  realm: string,
  onUnexpected: OnUnexpected,
): void {
  if (isResolutionError(error)) {
    const { problem, headers } = problemFor(error.reason, realm);
    return sendProblem(reply, problem.status, problem, headers);
  }
  sendFrameworkProblem(reply, error, onUnexpected);
}

/**
 * Everything that is not a domain error, the same way on every HTTP surface: Nest's
 * HttpExceptions with their status, Fastify's own client errors (malformed JSON, body too large,
 * bad content type) as 4xx, and anything unexpected as a bare 500 — never a stack trace, SQL or
 * key material. `challenge` is the WWW-Authenticate value for a 401.
 */
export function sendFrameworkProblem(
  reply: FastifyReply,
  exception: unknown,
  onUnexpected: OnUnexpected,
  challenge?: string,
): void {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const detail =
      typeof response === 'object' && response !== null && 'message' in response
        ? String(response.message)
        : exception.message;
    const headers: Record<string, string> =
      status === 401 && challenge ? { 'www-authenticate': challenge } : {};
    // The title is the status phrase ("Unauthorized", "Payload Too Large"): a class name such
    // as NotFoundException says something about the code, nothing to the client.
    return sendProblem(reply, status, { title: statusTitle(status), detail }, headers);
  }
  const status = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendProblem(reply, status, {
      title: statusTitle(status),
      detail: (exception as Error).message,
    });
  }
  onUnexpected(exception);
  sendProblem(reply, 500, { title: 'Internal error' });
}

/**
 * The error handler of a route registered on Fastify directly (the measured hot paths): it also
 * sees the body parser's errors and a failure to translate the answer, and counts a bug once,
 * on the route's own surface.
 */
export function routeErrorHandler(
  surface: ErrorSurface,
  realm: string,
  internalErrors: InternalErrors,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) =>
    sendFailure(reply, error, realm, (e) => internalErrors.report(surface, e, request.id));
}
