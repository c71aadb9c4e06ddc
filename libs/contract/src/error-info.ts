import { join } from 'node:path';
import { Root } from 'protobufjs';
import { PROTO_ROOT } from './grpc-contract';

const root = new Root();
root.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : join(PROTO_ROOT, target);
root.loadSync('google/rpc/status.proto', { keepCase: true });
const StatusType = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The trailer that carries a refusal's `google.rpc.Status` (what richer gRPC clients decode). */
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

/**
 * A refusal's `google.rpc.Status` with one `ErrorInfo` detail (reason, domain, and metadata such
 * as the `www_authenticate` challenge of a sender-bound token's refusal), encoded.
 */
export function encodeErrorInfo(refusal: {
  code: number;
  message: string;
  reason: string;
  domain: string;
  metadata?: Readonly<Record<string, string>>;
}): Buffer {
  const info = ErrorInfoType.encode(
    ErrorInfoType.create({
      reason: refusal.reason,
      domain: refusal.domain,
      ...(refusal.metadata ? { metadata: { ...refusal.metadata } } : {}),
    }),
  ).finish();
  const status = StatusType.encode(
    StatusType.create({
      code: refusal.code,
      message: refusal.message,
      details: [{ type_url: ERROR_INFO_URL, value: info }],
    }),
  ).finish();
  return Buffer.from(status);
}

/** Decodes {@link STATUS_DETAILS_TRAILER} (for clients and tests). */
export function decodeErrorInfo(
  bin: Buffer,
): { code: number; reason: string; domain: string; metadata: Record<string, string> } | undefined {
  const status = StatusType.toObject(StatusType.decode(bin)) as {
    code: number;
    details?: { type_url: string; value: Uint8Array }[];
  };
  const detail = status.details?.find((d) => d.type_url === ERROR_INFO_URL);
  if (!detail) return undefined;
  const info = ErrorInfoType.toObject(ErrorInfoType.decode(detail.value)) as {
    reason: string;
    domain: string;
    metadata?: Record<string, string>;
  };
  return {
    code: status.code,
    reason: info.reason,
    domain: info.domain,
    metadata: { ...(info.metadata ?? {}) },
  };
}
