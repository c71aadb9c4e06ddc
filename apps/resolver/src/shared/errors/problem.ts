import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { AdminError, type AdminErrorKind } from '@resolver/provisioning';
import {
  type AuthChallenge,
  type DomainError,
  presentReason,
  type ReasonCode,
  ResolutionError,
} from '@resolver/reasons';
import { AdminDisabled } from '../admin-disabled';
import { refusalHeaders } from './auth-challenge';
import type { Failure } from './failure';

/** RFC 9457 problem document with the resolver's `reason` extension. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  reason?: ReasonCode;
  detail?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem document and headers for a reason. Titles are fixed text: no request data. */
function problemFor(
  error: ResolutionError,
  realm: string,
  fallback?: AuthChallenge,
): { problem: Problem; headers: Record<string, string> } {
  const { reason } = error;
  const { httpStatus, title } = presentReason(reason);
  const headers = refusalHeaders(error, realm, fallback);
  return {
    problem: { type: `urn:${realm}:reason:${reason}`, title, status: httpStatus, reason },
    headers,
  };
}

/** Sends a problem document: `type` defaults to about:blank, `status` is filled in. */
function sendProblem(
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

/** Each admin refusal as its status; its kind is the title, its field named. */
const ADMIN_STATUS: Readonly<Record<AdminErrorKind, number>> = {
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UPSTREAM: 502,
};

/** The refusals a problem document can say; false for one that means nothing here (a bug). */
function sendRefusal(
  reply: FastifyReply,
  error: DomainError,
  realm: string,
  fallback?: AuthChallenge,
): boolean {
  if (error instanceof ResolutionError) {
    const { problem, headers } = problemFor(error, realm, fallback);
    sendProblem(reply, problem.status, problem, headers);
  } else if (error instanceof AdminError) {
    sendProblem(reply, ADMIN_STATUS[error.kind], {
      title: error.kind,
      detail: error.message,
      field: error.field,
    });
  } else if (error instanceof AdminDisabled) {
    sendProblem(reply, 404, { title: 'Admin API disabled', detail: error.message });
  } else {
    return false;
  }
  return true;
}

/**
 * Renders a failure as `application/problem+json` (every HTTP surface but SCIM): a reason with
 * its table's status and headers, an admin refusal naming its field, a framework error titled by
 * its status phrase (a class name such as NotFoundException says nothing to the client), an
 * unknown route as 404 or, when its path has other methods, 405 naming them, and a bug as a bare
 * 500 — never a stack trace, SQL or key material. `challenge` is the WWW-Authenticate of a 401
 * on a surface behind a credential of its own (the admin one). False when the failure is a
 * refusal this surface has no answer for: the caller counts it as the bug it is.
 */
export function renderProblem(
  reply: FastifyReply,
  failure: Failure,
  options: { realm: string; challenge?: string; method: string; fallback?: AuthChallenge },
): boolean {
  switch (failure.kind) {
    case 'refusal':
      return sendRefusal(reply, failure.error, options.realm, options.fallback);
    case 'http': {
      const { status, detail } = failure;
      const headers: Record<string, string> =
        status === 401 && options.challenge ? { 'www-authenticate': options.challenge } : {};
      sendProblem(reply, status, { title: statusTitle(status), detail }, headers);
      return true;
    }
    case 'unrouted':
      if (failure.allow.length)
        sendProblem(
          reply,
          405,
          { title: 'Method Not Allowed', detail: `${options.method} is not served here` },
          { allow: failure.allow.join(', ') },
        );
      else sendProblem(reply, 404, { title: statusTitle(404), detail: failure.detail });
      return true;
    case 'bug':
      sendProblem(reply, 500, { title: 'Internal error' });
      return true;
  }
}
