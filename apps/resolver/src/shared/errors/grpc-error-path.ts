import { type ArgumentsHost, Inject, Injectable } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { type Metadata, status } from '@grpc/grpc-js';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors, REQUEST_ID_HEADER, requestIdFrom } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { type Observable, throwError } from 'rxjs';
import { grpcSurface } from '../../transport/error-surface';
import { AdminDisabled } from '../admin-disabled';
import { fallbackChallenge } from './auth-challenge';
import { grpcError, grpcStatus } from './grpc-status';

/**
 * The one answer to every gRPC failure: a resolution failure as its reason's status with
 * details, a disabled admin-only method as UNIMPLEMENTED saying why, a deliberate RpcException
 * as it is, and anything unexpected as INTERNAL without details, counted once as an internal
 * error of the method's surface.
 */
@Injectable()
export class GrpcErrorPath {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
  ) {}

  answer(exception: unknown, host: ArgumentsHost): Observable<never> {
    // Nest passes (request, metadata, call) to a gRPC handler.
    const call = host.getArgByIndex<{ getPath?: () => string } | undefined>(2);
    if (exception instanceof ResolutionError)
      return throwError(() =>
        grpcError(exception, this.config.domain, fallbackChallenge(this.config)),
      );
    if (exception instanceof AdminDisabled) {
      const method = call?.getPath?.().split('/').pop() ?? 'this method';
      return throwError(() =>
        grpcStatus(status.UNIMPLEMENTED, `${method} is admin-only and ${exception.message}`),
      );
    }
    if (exception instanceof RpcException) return throwError(() => exception.getError());
    const metadata = host.getArgByIndex<Metadata | undefined>(1);
    this.internalErrors.report(
      grpcSurface(call?.getPath?.()),
      exception,
      metadata ? requestIdFrom(metadata.get(REQUEST_ID_HEADER)) : undefined,
    );
    return throwError(() => grpcStatus(status.INTERNAL, 'internal error'));
  }
}
