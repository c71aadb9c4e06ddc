import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { type ErrorSurface, InternalErrors } from '@resolver/observability';
import { httpSurface } from '../../transport/error-surface';
import { ADMIN_CHALLENGE } from '../admin-credential.guard';
import { BUG, classify, type Failure } from './failure';
import { fallbackChallenge } from './auth-challenge';
import { renderProblem } from './problem';
import { renderScim } from './scim-error-body';
import { RouteTable } from './route-table';

/**
 * The one answer to every HTTP failure, whoever caught it: the app's global filter (handlers,
 * guards, interceptors, the credential hooks, Nest's body-parser and not-found errors) and the
 * error handler of each route registered on Fastify directly (`forRoute`). It sorts the failure
 * once, picks the surface's renderer — the SCIM error body under /scim/v2, problem+json
 * everywhere else — and counts a bug exactly once, on its surface, through InternalErrors. Fastify
 * keeps the error handler Nest installed: nothing here replaces it (FSTWRN004).
 */
@Injectable()
export class HttpErrorPath {
  private readonly scim: boolean;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
    private readonly routes: RouteTable,
  ) {
    this.scim = config.scim.clients.length > 0;
  }

  /** The error handler of a route registered on Fastify directly, counting on `surface`. */
  forRoute(
    surface: ErrorSurface,
  ): (error: unknown, request: FastifyRequest, reply: FastifyReply) => void {
    return (error, request, reply) => this.answer(error, request, reply, surface);
  }

  answer(
    exception: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
    surface = httpSurface(request.url, request.routeOptions?.url, this.scim),
  ): void {
    // No matched route: Nest's not-found handler threw this. Only unknown requests pay for it.
    const failure: Failure =
      exception instanceof NotFoundException && !request.routeOptions?.url
        ? { kind: 'unrouted', allow: this.routes.methodsAt(request.url), detail: exception.message }
        : classify(exception);
    if (failure.kind !== 'bug' && this.render(surface, failure, request, reply)) return;
    this.internalErrors.report(surface, exception, request.id);
    this.render(surface, BUG, request, reply);
  }

  private render(
    surface: ErrorSurface,
    failure: Failure,
    request: FastifyRequest,
    reply: FastifyReply,
  ): boolean {
    if (surface === 'scim') return renderScim(reply, failure, request, this.config.scim.clients);
    return renderProblem(reply, failure, {
      realm: this.config.domain,
      method: request.method,
      fallback: fallbackChallenge(this.config),
      // The surfaces behind the admin credential challenge for it.
      challenge: surface === 'admin' || surface === 'diagnose' ? ADMIN_CHALLENGE : undefined,
    });
  }
}
