import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ScimConflict, StoreRefusal } from '@resolver/identity';
import { ScimError } from '@resolver/provisioning';
import { isResolutionError } from '@resolver/reasons';
import { type ScimAnswer, scimAnswer, sendScimError } from './scim-response';

/**
 * Every failure under /scim/v2 as an RFC 7644 §3.12 error: the use cases' ScimError as is, a
 * unique index as 409 uniqueness, Fastify's body errors (too large, bad JSON, wrong content
 * type) with their status, a store outage as 503 — never SQL or a stack trace.
 */
@Catch()
export class ScimErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Scim');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendScimError(
      host.switchToHttp().getResponse<FastifyReply>(),
      toScimError(exception, this.logger),
    );
  }
}

/** Maps anything a SCIM request can throw onto its SCIM error. */
export function toScimError(exception: unknown, logger: Logger): ScimAnswer {
  if (exception instanceof ScimError) return scimAnswer(exception);
  if (exception instanceof ScimConflict)
    return {
      status: 409,
      scimType: 'uniqueness',
      detail: `${exception.attribute}: already in use`,
    };
  // The store refused the value itself: the request can never succeed, so 400, not an outage.
  if (exception instanceof StoreRefusal)
    return {
      status: 400,
      scimType: 'invalidValue',
      detail: 'a value cannot be stored (out of range or too long)',
    };
  if (isResolutionError(exception)) return { status: 503, detail: 'the user store is unavailable' };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return {
      status,
      scimType: status === 400 ? 'invalidSyntax' : undefined,
      detail: exception.message,
    };
  }
  const status = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (exception as { code?: string }).code;
    return {
      status,
      scimType: status === 400 ? 'invalidSyntax' : undefined,
      detail:
        code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'the body is larger than server.bodyLimitBytes'
          : (exception as Error).message,
    };
  }
  logger.error(`unexpected error: ${(exception as Error)?.stack ?? String(exception)}`);
  return { status: 500, detail: 'internal error' };
}
