import { ServerGrpc } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { isMalformedRequest, MALFORMED_REQUEST_STATUS } from './grpc-hardening';

type UnaryCallback = (error: unknown, value?: unknown) => void;
type UnaryCall = { request: unknown; metadata: unknown };

/**
 * Nest's gRPC transport (`@nestjs/microservices` on `@grpc/grpc-js`) with a lean unary call
 * path. A custom strategy because this is the one place the per-call wrapping can be changed:
 * ServerGrpc turns every unary call into a copy of the call object (`{ ...call }`, every own
 * property of grpc-js's call), an Observable of the handler's promise, a subscription and two
 * more promise hops, around a handler that returns one plain value. Gateways call `Check` and
 * backends `ResolveSubject` on every request, so that cost showed in the warm gRPC bench's
 * server CPU per call (README "Performance"). Here a unary handler's promise is settled straight
 * into grpc-js's callback; an Observable (what Nest's exception filters return for an error,
 * and what a handler may return) is still subscribed, so filters, guards, pipes and
 * interceptors keep working as Nest documents. Nest's processing hooks
 * (`setOnProcessingStartHook`, for instrumentation) are not called on this path; the resolver
 * sets none.
 */
export class ResolverGrpcServer extends ServerGrpc {
  // The base class types handlers as `Function`; the override has to keep its signature.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  override createUnaryServiceMethod(methodHandler: Function): Function {
    const handler = methodHandler as (
      request: unknown,
      metadata: unknown,
      call: unknown,
    ) => Promise<unknown>;
    return (call: UnaryCall, callback: UnaryCallback) => {
      if (isMalformedRequest(call.request)) return callback(MALFORMED_REQUEST_STATUS);
      handler(call.request, call.metadata, call).then(
        (result) => {
          if (!isObservable(result)) return callback(null, result);
          let answered = false;
          result.subscribe({
            next: (value) => {
              // A unary call has one answer: the first value, as Nest's own path gives it.
              if (answered) return;
              answered = true;
              void Promise.resolve(value).then(
                (v) => callback(null, v),
                (error: unknown) => callback(error),
              );
            },
            error: (error: unknown) => {
              if (!answered) callback(error);
              answered = true;
            },
          });
        },
        (error: unknown) => callback(error),
      );
    };
  }
}
