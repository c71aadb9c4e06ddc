import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { sendFailure } from './problem';

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
    sendFailure(
      host.switchToHttp().getResponse<FastifyReply>(),
      exception,
      this.config.domain,
      this.logger,
    );
  }
}
