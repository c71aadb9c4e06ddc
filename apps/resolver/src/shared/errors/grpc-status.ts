import { Metadata, status } from '@grpc/grpc-js';
import { encodeErrorInfo, STATUS_DETAILS_TRAILER } from '@resolver/contract';
import { presentReason, type ResolutionError } from '@resolver/reasons';

/** The gRPC error object Nest hands to grpc-js: status, message and trailers. */
export interface GrpcErrorObject {
  code: number;
  message: string;
  details: string;
  metadata?: Metadata;
}

/**
 * Encodes a resolution failure the standard way: the reason's status code, the reason in the
 * status message, and a `google.rpc.Status` with an `ErrorInfo` detail in the
 * `grpc-status-details-bin` trailer (what richer gRPC clients decode).
 */
export function grpcError(error: ResolutionError, domain: string): GrpcErrorObject {
  const { grpcStatus, title } = presentReason(error.reason);
  const message = `${error.reason}: ${title}`;
  const metadata = new Metadata();
  metadata.set(
    STATUS_DETAILS_TRAILER,
    encodeErrorInfo({ code: grpcStatus, message, reason: error.reason, domain }),
  );
  return { code: grpcStatus, message, details: message, metadata };
}

/** A status without details: `code` and the same text as message and details. */
export function grpcStatus(code: status, message: string): GrpcErrorObject {
  return { code, message, details: message };
}
