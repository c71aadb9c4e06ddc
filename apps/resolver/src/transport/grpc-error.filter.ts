import {
  type ArgumentsHost,
  Catch,
  Inject,
  Injectable,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { type Metadata, status } from '@grpc/grpc-js';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors, REQUEST_ID_HEADER, requestIdFrom } from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import { type Observable, throwError } from 'rxjs';
import { grpcSurface } from './error-surface';
import { grpcError } from './error-details';

/**
 * Turns a failure into a gRPC status: a resolution failure with its reason and details, a
 * deliberate RpcException as it is, and anything unexpected as INTERNAL without details, counted
 * once as an internal error of the method's surface.
 */
@Catch()
@Injectable()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    if (isResolutionError(exception))
      return throwError(() => grpcError(exception, this.config.domain));
    if (exception instanceof RpcException) return throwError(() => exception.getError());
    // Nest passes (request, metadata, call) to a gRPC handler.
    const call = host.getArgByIndex<{ getPath?: () => string } | undefined>(2);
    const metadata = host.getArgByIndex<Metadata | undefined>(1);
    this.internalErrors.report(
      grpcSurface(call?.getPath?.()),
      exception,
      metadata ? requestIdFrom(metadata.get(REQUEST_ID_HEADER)) : undefined,
    );
    return throwError(() => ({
      code: status.INTERNAL,
      message: 'internal error',
      details: 'internal error',
    }));
  }
}
