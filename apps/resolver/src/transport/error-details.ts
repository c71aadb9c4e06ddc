import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { Root } from 'protobufjs';
import { presentReason, type ResolutionError } from '@resolver/reasons';
import { PROTO_ROOT } from './grpc-options';

const root = new Root();
root.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : join(PROTO_ROOT, target);
root.loadSync('google/rpc/status.proto', { keepCase: true });
const StatusType = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The gRPC error object Nest hands to grpc-js: status, message and trailers. */
export interface GrpcErrorObject {
  code: number;
  message: string;
  details: string;
  metadata: Metadata;
}

/**
 * Encodes a resolution failure the standard way: the reason's status code, the reason in the
 * status message, and a `google.rpc.Status` with an `ErrorInfo` detail in the
 * `grpc-status-details-bin` trailer (what richer gRPC clients decode).
 */
export function grpcError(error: ResolutionError, domain: string): GrpcErrorObject {
  const { grpcStatus, title } = presentReason(error.reason);
  const message = `${error.reason}: ${title}`;
  const info = ErrorInfoType.encode(
    ErrorInfoType.create({ reason: error.reason, domain }),
  ).finish();
  const status = StatusType.encode(
    StatusType.create({
      code: grpcStatus,
      message,
      details: [{ type_url: ERROR_INFO_URL, value: info }],
    }),
  ).finish();
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status));
  return { code: grpcStatus, message, details: message, metadata };
}

/** Decodes `grpc-status-details-bin` (for clients and tests). */
export function decodeErrorInfo(
  bin: Buffer,
): { code: number; reason: string; domain: string } | undefined {
  const status = StatusType.toObject(StatusType.decode(bin)) as {
    code: number;
    details?: { type_url: string; value: Uint8Array }[];
  };
  const detail = status.details?.find((d) => d.type_url === ERROR_INFO_URL);
  if (!detail) return undefined;
  const info = ErrorInfoType.toObject(ErrorInfoType.decode(detail.value)) as {
    reason: string;
    domain: string;
  };
  return { code: status.code, reason: info.reason, domain: info.domain };
}
