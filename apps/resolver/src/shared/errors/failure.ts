import { HttpException } from '@nestjs/common';
import type { HTTPMethods } from 'fastify';
import { DomainError } from '@resolver/reasons';

/**
 * Any failure of an HTTP request, sorted once for every surface's renderer (problem+json, the
 * SCIM error body). Refusals are told apart by class and code, never by duck-typed properties.
 */
export type Failure =
  /** Our own "no": a reason, an admin or SCIM refusal, a store refusal, a disabled feature. */
  | { readonly kind: 'refusal'; readonly error: DomainError }
  /**
   * The framework's answer: Nest's HttpExceptions (a guard's 401, a missing asset's 404) and
   * Fastify's client errors before any handler (body too large, bad JSON, wrong content type).
   */
  | { readonly kind: 'http'; readonly status: number; readonly detail: string }
  /** No route took the request: `allow` lists the methods its path has (a 405), or none (404). */
  | { readonly kind: 'unrouted'; readonly allow: readonly HTTPMethods[]; readonly detail: string }
  /** Anything else is a bug: answered 500 with nothing of it, and counted once. */
  | { readonly kind: 'bug' };

export const BUG: Failure = { kind: 'bug' };

/** Sorts what a handler, a hook or a body parser threw. */
export function classify(exception: unknown): Failure {
  if (exception instanceof DomainError)
    return { kind: 'refusal', error: exception as DomainError };
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const detail =
      typeof response === 'object' && response !== null && 'message' in response
        ? String(response.message)
        : exception.message;
    return { kind: 'http', status: exception.getStatus(), detail };
  }
  // Fastify's own client errors (and a parser's): a 4xx `statusCode`. A 5xx one is ours: a bug.
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { kind: 'http', status, detail: (exception as Error).message };
  return BUG;
}
