import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { GrpcErrorFilter } from './grpc-error.filter';
import { HttpProblemFilter } from './http-problem.filter';

/**
 * The one global filter (`APP_FILTER`), for both transports of the hybrid app: Nest applies the
 * first global filter that matches, so one catch-all hands each context to its own translation.
 * A controller's own filter (admin, SCIM) still wins over this one.
 */
@Catch()
@Injectable()
export class TransportErrorFilter implements ExceptionFilter {
  constructor(
    private readonly http: HttpProblemFilter,
    private readonly grpc: GrpcErrorFilter,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    return host.getType() === 'rpc'
      ? this.grpc.catch(exception, host)
      : this.http.catch(exception, host);
  }
}
