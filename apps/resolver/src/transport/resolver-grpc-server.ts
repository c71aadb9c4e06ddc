import { type GrpcOptions, ServerGrpc } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { isObservable } from 'rxjs';
import { isMalformedRequest, MALFORMED_REQUEST_STATUS } from './grpc-hardening';
import { type GrpcLane, type GrpcLanes, keepingEncodings } from './grpc-lanes';
import { carryLaneFault } from './lane-fault';

type UnaryCallback = (error: unknown, value?: unknown) => void;
type UnaryCall = { request: unknown; metadata: Metadata };
type UnaryMethod = (call: UnaryCall, callback: UnaryCallback) => void;

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
  /** `lanes`: the methods' answers from memory (grpc-lanes.ts); none on a TLS or traced server. */
  constructor(
    options: GrpcOptions['options'],
    private readonly lanes?: GrpcLanes,
  ) {
    super(options);
  }

  /** Nest's services, with each method that has a lane behind it. */
  override async createService(
    grpcService: Record<string, unknown> & {
      prototype: Record<string, { path?: string }>;
      service?: Record<string, { path?: string; responseSerialize?: (value: unknown) => Buffer }>;
    },
    name: string,
  ): Promise<Record<string, unknown>> {
    const service = (await super.createService(grpcService, name)) as Record<string, UnaryMethod>;
    for (const method of Object.keys(service)) {
      const definition = grpcService.prototype[method];
      const lane = definition?.path ? this.lanes?.of(definition.path) : undefined;
      if (lane) service[method] = withLane(lane, service[method] as UnaryMethod);
    }
    // The definition grpc-js registers (Nest passes `grpcService.service` to addService after
    // this): a laned method keeps the encoding of the shared answers its lane sends.
    for (const attrs of Object.values(grpcService.service ?? {})) {
      if (attrs.path && this.lanes?.of(attrs.path) && attrs.responseSerialize)
        attrs.responseSerialize = keepingEncodings(attrs.responseSerialize);
    }
    return service;
  }

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

/**
 * A method's lane in front of its full call path: a well-formed request the lane answers is
 * answered at once; anything else takes the full path, which decides it as it always has; a lane
 * that fails hands its error to the full path, whose handler throws it first (the one error path).
 */
export function withLane(lane: GrpcLane, full: UnaryMethod): UnaryMethod {
  return (call, callback) => {
    if (!isMalformedRequest(call.request)) {
      let answer: object | undefined;
      try {
        answer = lane(call.request, call.metadata, call);
      } catch (error) {
        // Reported by the full path's one error path, counted once (lane-fault.ts).
        carryLaneFault(call, error);
      }
      if (answer !== undefined) return callback(null, answer);
    }
    return full(call, callback);
  };
}
