import { type ArgumentsHost, Catch, Inject, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import { type Observable, throwError } from 'rxjs';
import { grpcError } from './error-details';

/** Turns a failure into a gRPC status; anything unexpected is INTERNAL without details. */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('gRPC');

  constructor(@Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (isResolutionError(exception))
      return throwError(() => grpcError(exception, this.config.domain));
    this.logger.error(`unexpected error: ${(exception as Error)?.stack ?? String(exception)}`);
    return throwError(() => ({
      code: status.INTERNAL,
      message: 'internal error',
      details: 'internal error',
    }));
  }
}
