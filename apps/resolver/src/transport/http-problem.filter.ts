import { type ArgumentsHost, Catch, type ExceptionFilter, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors } from '@resolver/observability';
import { httpSurface } from './error-surface';
import { sendFailure } from './problem';

/**
 * Every HTTP failure becomes `application/problem+json`: resolution failures with their reason,
 * framework errors (bad JSON, unknown route) with their status, and anything unexpected as a
 * bare 500 — never a stack trace, SQL or key material — counted once as an internal error.
 */
@Catch()
export class HttpProblemFilter implements ExceptionFilter {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendFailure(http.getResponse<FastifyReply>(), exception, this.config.domain, (error) =>
      this.internalErrors.report(httpSurface(request.routeOptions?.url), error, request.id),
    );
  }
}
