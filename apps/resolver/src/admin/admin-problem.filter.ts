import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminError } from '@resolver/identity';
import { isResolutionError, presentReason } from '@resolver/reasons';
import { sendFrameworkProblem, sendProblem } from '../http/problem';

const STATUS = { INVALID: 400, NOT_FOUND: 404, CONFLICT: 409 } as const;

/** Admin failures as problem documents: 400 naming the field, 404, 409, 401, 503. */
@Catch()
export class AdminProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Admin');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof AdminError) {
      return sendProblem(reply, STATUS[exception.kind], {
        title: exception.kind,
        detail: exception.message,
        field: exception.field,
      });
    }
    if (isResolutionError(exception)) {
      const p = presentReason(exception.reason);
      return sendProblem(reply, p.httpStatus, { title: p.title, reason: exception.reason });
    }
    sendFrameworkProblem(reply, exception, this.logger, 'Bearer realm="resolver-admin"');
  }
}
