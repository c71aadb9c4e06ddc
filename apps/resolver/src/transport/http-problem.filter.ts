import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors } from '@resolver/observability';
import { httpSurface } from './error-surface';
import { sendFailure, sendProblem } from './problem';

/** The methods a 405's `Allow` may list, in the order it lists them. */
/** Every method a route can answer, in the order a 405's `Allow` lists them. */
export const HTTP_METHODS: HTTPMethods[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];

/**
 * Every HTTP failure of the Nest-routed surface becomes `application/problem+json`: resolution
 * failures with their reason, framework errors (bad JSON, body too large) with their status and
 * its phrase as title, and anything unexpected as a bare 500 — never a stack trace, SQL or key
 * material — counted once as an internal error. Unknown routes land here through Nest's
 * not-found handler: a path that exists for other methods is a 405 naming them (`Allow`), any
 * other a 404. The direct Fastify routes (/v1/resolve, /v1/authz) keep their own error handler,
 * off Nest's chain; admin and SCIM keep their own filters for their own bodies.
 */
@Catch()
@Injectable()
export class HttpProblemFilter implements ExceptionFilter {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // No matched route: Nest's not-found handler threw this. Only unknown requests pay for it.
    if (exception instanceof NotFoundException && !request.routeOptions?.url) {
      const allow = this.methodsFor(request.url);
      if (allow.length)
        return sendProblem(
          reply,
          405,
          { title: 'Method Not Allowed', detail: `${request.method} is not served here` },
          { allow: allow.join(', ') },
        );
    }
    sendFailure(reply, exception, this.config.domain, (error) =>
      this.internalErrors.report(httpSurface(request.routeOptions?.url), error, request.id),
    );
  }

  /** The methods registered for this exact path (static routes, which every public one is). */
  private methodsFor(url: string): HTTPMethods[] {
    const path = url.split('?', 1)[0] ?? url;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    return HTTP_METHODS.filter((method) => fastify.hasRoute({ url: path, method }));
  }
}
