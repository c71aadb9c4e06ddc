import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import { PROBLEM_CONTENT_TYPE, problemFor } from './problem';

/**
 * Every HTTP failure becomes `application/problem+json`: resolution failures with their reason,
 * framework errors (bad JSON, unknown route) with their status, and anything unexpected as a
 * bare 500 — never a stack trace, SQL or key material.
 */
@Catch()
export class HttpProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(@Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (isResolutionError(exception)) {
      const { problem, headers } = problemFor(exception.reason, this.config.domain);
      void reply.status(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const detail =
        typeof response === 'object' && response !== null && 'message' in response
          ? String((response as { message: unknown }).message)
          : exception.message;
      void reply
        .status(status)
        .type(PROBLEM_CONTENT_TYPE)
        .send({ type: 'about:blank', title: exception.name, status, detail });
      return;
    }
    const status = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own client errors (malformed JSON, body too large, bad content type).
      void reply
        .status(status)
        .type(PROBLEM_CONTENT_TYPE)
        .send({
          type: 'about:blank',
          title: 'Bad request',
          status,
          detail: (exception as Error).message,
        });
      return;
    }
    this.logger.error(`unexpected error: ${(exception as Error)?.stack ?? String(exception)}`);
    void reply
      .status(500)
      .type(PROBLEM_CONTENT_TYPE)
      .send({ type: 'about:blank', title: 'Internal error', status: 500 });
  }
}
