import { Metadata, status } from '@grpc/grpc-js';
import { encodeErrorInfo, STATUS_DETAILS_TRAILER } from '@resolver/contract';
import { type AuthChallenge, presentReason, type ResolutionError } from '@resolver/reasons';
import { refusalHeaders } from './auth-challenge';

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
 * `grpc-status-details-bin` trailer (what richer gRPC clients decode). A refusal that carries a
 * challenge (a sender-bound token's) adds what HTTP would say in its headers: the
 * `www_authenticate` challenge (RFC 9449 §7.1) and any `dpop_nonce`, both in the ErrorInfo
 * metadata and as `www-authenticate` / `dpop-nonce` trailers.
 */
export function grpcError(
  error: ResolutionError,
  domain: string,
  fallback?: AuthChallenge,
): GrpcErrorObject {
  const { grpcStatus, title } = presentReason(error.reason);
  const message = `${error.reason}: ${title}`;
  const metadata = new Metadata();
  let info: Record<string, string> | undefined;
  if (error.challenge || fallback?.dpopAlgs) {
    const headers = refusalHeaders(error, domain, fallback);
    info = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name !== 'www-authenticate' && name !== 'dpop-nonce') continue;
      info[name.replace('-', '_')] = value;
      metadata.set(name, value);
    }
  }
  metadata.set(
    STATUS_DETAILS_TRAILER,
    encodeErrorInfo({ code: grpcStatus, message, reason: error.reason, domain, metadata: info }),
  );
  return { code: grpcStatus, message, details: message, metadata };
}

/** A status without details: `code` and the same text as message and details. */
export function grpcStatus(code: status, message: string): GrpcErrorObject {
  return { code, message, details: message };
}
