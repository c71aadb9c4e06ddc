import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from '@resolver/provisioning';
import { InternalErrors } from '@resolver/observability';
import { isResolutionError, presentReason } from '@resolver/reasons';
import { httpSurface } from '../transport/error-surface';
import { sendFrameworkProblem, sendProblem } from '../transport/problem';
import { ADMIN_CHALLENGE } from './admin-credential.guard';

const STATUS = { INVALID: 400, NOT_FOUND: 404, CONFLICT: 409 } as const;

/** Admin failures as problem documents: 400 naming the field, 404, 409, 401, 503. */
@Catch()
export class AdminProblemFilter implements ExceptionFilter {
  constructor(private readonly internalErrors: InternalErrors) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
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
    sendFrameworkProblem(
      reply,
      exception,
      (error) =>
        this.internalErrors.report(httpSurface(request.routeOptions?.url), error, request.id),
      ADMIN_CHALLENGE,
    );
  }
}
