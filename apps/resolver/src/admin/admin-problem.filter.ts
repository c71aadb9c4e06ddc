import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminError } from '@resolver/identity';
import { isResolutionError, presentReason } from '@resolver/reasons';
import { PROBLEM_CONTENT_TYPE } from '../http/problem';

const STATUS = { INVALID: 400, NOT_FOUND: 404, CONFLICT: 409 } as const;

/** Admin failures as problem documents: 400 naming the field, 404, 409, 401, 503. */
@Catch()
export class AdminProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Admin');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const send = (
      status: number,
      body: Record<string, unknown>,
      headers: Record<string, string> = {},
    ) =>
      void reply
        .status(status)
        .headers(headers)
        .type(PROBLEM_CONTENT_TYPE)
        .send({ type: 'about:blank', status, ...body });
    if (exception instanceof AdminError) {
      return send(STATUS[exception.kind], {
        title: exception.kind,
        detail: exception.message,
        field: exception.field,
      });
    }
    if (isResolutionError(exception)) {
      const p = presentReason(exception.reason);
      return send(p.httpStatus, { title: p.title, reason: exception.reason });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return send(
        status,
        { title: exception.name, detail: exception.message },
        status === 401 ? { 'www-authenticate': 'Bearer realm="resolver-admin"' } : {},
      );
    }
    const status = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return send(status, { title: 'Bad request', detail: (exception as Error).message });
    }
    this.logger.error(
      `unexpected admin error: ${(exception as Error)?.stack ?? String(exception)}`,
    );
    return send(500, { title: 'Internal error' });
  }
}
