import { status } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { InternalErrors } from '@resolver/observability';
import { grpcSurface } from './error-surface';

/**
 * What a request deserialiser returns for bytes that are not a valid message. grpc-js answers a
 * throwing deserialiser with INTERNAL, which blames the server for the client's bytes; the
 * transport (ResolverGrpcServer) answers this marker with INVALID_ARGUMENT instead, before any
 * handler runs — one comparison per call, where a grpc-js server interceptor would wrap every
 * call in another intercepting layer.
 */
const MALFORMED = Object.freeze({ malformedRequest: true });

interface MethodDefinition {
  path: string;
  requestDeserialize: (bytes: Buffer) => unknown;
  responseSerialize: (value: unknown) => Buffer;
}

function isMethod(value: unknown): value is MethodDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MethodDefinition).path === 'string' &&
    typeof (value as MethodDefinition).requestDeserialize === 'function'
  );
}

/**
 * Wraps every served method's (de)serialisers, in the loaded package definition before the
 * server is built from it: a request that does not decode becomes {@link MALFORMED}, and an
 * answer that fails to encode (a bug in translating it) is reported as an internal error of its
 * surface before grpc-js sends INTERNAL — the one failure no Nest filter can see.
 */
export function hardenGrpcDefinitions(
  pkg: PackageDefinition,
  internalErrors: InternalErrors,
): void {
  for (const service of Object.values(pkg)) {
    if (typeof service !== 'object' || service === null || 'format' in service) continue;
    for (const method of Object.values(service as Record<string, unknown>)) {
      if (!isMethod(method)) continue;
      const { requestDeserialize, responseSerialize, path } = method;
      method.requestDeserialize = (bytes) => {
        try {
          return requestDeserialize(bytes);
        } catch {
          return MALFORMED;
        }
      };
      method.responseSerialize = (value) => {
        try {
          return responseSerialize(value);
        } catch (error) {
          internalErrors.report(grpcSurface(path), error);
          throw error;
        }
      };
    }
  }
}

/** True for what a wrapped deserialiser returned for bytes that are not a valid message. */
export function isMalformedRequest(request: unknown): boolean {
  return request === MALFORMED;
}

/** The status a request that did not decode is answered with; the handler never runs. */
export const MALFORMED_REQUEST_STATUS = {
  code: status.INVALID_ARGUMENT,
  details: 'the request is not a valid protobuf message',
} as const;
