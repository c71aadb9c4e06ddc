import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { GrpcErrorPath } from './grpc-error-path';
import { HttpErrorPath } from './http-error-path';

/**
 * The app's one global filter (`APP_FILTER`), for both transports of the hybrid app: Nest applies
 * the first global filter that matches, so one catch-all hands each context to its transport's
 * error path. No controller has a filter of its own: every surface answers through these.
 */
@Catch()
@Injectable()
export class ErrorFilter implements ExceptionFilter {
  constructor(
    private readonly http: HttpErrorPath,
    private readonly grpc: GrpcErrorPath,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return this.grpc.answer(exception, host);
    const http = host.switchToHttp();
    this.http.answer(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
    );
  }
}
