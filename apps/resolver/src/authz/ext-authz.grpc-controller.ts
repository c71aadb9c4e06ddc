import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { type Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { TRACEPARENT } from '@resolver/observability';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { presentReason } from '@resolver/reasons';
import type {
  CheckRequest__Output as CheckRequest,
  CheckResponse,
  HeaderValueOption,
} from '@resolver/contract';
import { type GatewayContext, presentedFromEnvoy } from '@resolver/resolution';
import {
  ClientCertificates,
  type GrpcCertificateInput,
} from '../transport/tls/client-certificates';
import { GrpcLanes, keptResponse } from '../transport/grpc-lanes';
import { throwLaneFault } from '../transport/lane-fault';
import { type GatewayAnswer, GatewayAuthorizer } from './gateway-authorizer';

const option = (key: string, value: string): HeaderValueOption => ({
  header: { key, value },
  // Replace, never append to, a copy the client sent.
  append: { value: false },
});

/** A request header by lowercase name, from `headers` or (encode_raw_headers) `header_map`. */
function requestHeader(http: Http | undefined, name: string): string | undefined {
  const direct = http?.headers?.[name];
  if (direct !== undefined) return direct;
  const entry = http?.headerMap?.headers?.find((h) => h.key?.toLowerCase() === name);
  if (!entry) return undefined;
  if (entry.rawValue && entry.rawValue.length) return Buffer.from(entry.rawValue).toString('utf8');
  return entry.value;
}

/** Envoy's Check, as grpc-js names the method (the lane's key). */
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

type Http = NonNullable<NonNullable<CheckRequest['attributes']>['request']>['http'];
type Allowed = GatewayAnswer & { allowed: true };

/** What the gateway said about the original request: read only for a failure's log line. */
function gatewayContext(http: Http | undefined): GatewayContext {
  return {
    method: http?.method,
    uri: http?.path,
    host: http?.host,
    client: requestHeader(http, 'x-forwarded-for'),
    request_id: http?.id,
  };
}

function okResponse(answer: Allowed): CheckResponse {
  return {
    status: { code: GrpcStatus.OK, message: '' },
    okResponse: {
      headers: Object.entries(answer.headers).map(([k, v]) => option(k, v)),
      headersToRemove: [...answer.remove],
    },
  };
}

/**
 * envoy.service.auth.v3.Authorization/Check: Envoy's ext_authz over gRPC. Translates the
 * gateway answer into a CheckResponse: OK + ok_response (identity headers set, the other
 * identity headers removed), or the reason's gRPC status + denied_response (401/403/503).
 */
@Controller()
export class ExtAuthzGrpcController {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly authorizer: GatewayAuthorizer,
    private readonly certificates: ClientCertificates,
    lanes: GrpcLanes,
  ) {
    lanes.add(CHECK_PATH, (request) => this.checkFromMemory(request as CheckRequest));
  }

  /**
   * The lane (grpc-lanes.ts): a repeated token of a cached user is answered with its shared OK
   * response, with no promise; undefined for anything else, which {@link check} answers.
   */
  checkFromMemory(request: CheckRequest): CheckResponse | undefined {
    const known = this.authorizer.answerFromMemory({
      authorization: requestHeader(request.attributes?.request?.http, 'authorization'),
      transport: 'ext_authz',
    });
    return known && this.okResponseOf(known);
  }

  @GrpcMethod('Authorization', 'Check')
  async check(
    request: CheckRequest,
    metadata: Metadata,
    call: GrpcCertificateInput,
  ): Promise<CheckResponse> {
    throwLaneFault(call);
    const http = request.attributes?.request?.http;
    const answer = await this.authorizer.authorize({
      authorization: requestHeader(http, 'authorization'),
      transport: 'ext_authz',
      context: () => gatewayContext(http),
      // Envoy's own (the call's metadata), else the checked request's.
      traceparent: () => metadata.get(TRACEPARENT)[0] ?? requestHeader(http, TRACEPARENT),
      // Read only for a sender-bound token: the original request as Envoy saw it.
      presented: () => ({
        ...presentedFromEnvoy({
          method: http?.method,
          scheme: http?.scheme,
          host: http?.host,
          path: http?.path,
          dpop: requestHeader(http, 'dpop'),
        }),
        // The client's certificate as Envoy saw it (include_peer_certificate, or XFCC among the
        // request headers), believed only from a trusted Check caller.
        ...this.certificates.ofExtAuthz(call, request.attributes?.source?.certificate, (name) =>
          requestHeader(http, name),
        ),
      }),
    });
    if (answer.allowed) return answer.shared ? this.okResponseOf(answer) : okResponse(answer);
    const headers = Object.entries(answer.headers).map(([k, v]) => option(k, v));
    headers.push(option('content-type', 'text/plain; charset=utf-8'));
    headers.push(option('cache-control', 'no-store'));
    const expose = this.config.authz.exposeReasonHeader;
    return {
      status: {
        code: presentReason(answer.reason).grpcStatus,
        message: expose ? answer.reason : 'denied',
      },
      deniedResponse: { status: { code: answer.status }, headers, body: answer.body },
      // For Envoy's access log (%DYNAMIC_METADATA(envoy.filters.http.ext_authz:reason)%): unlike
      // the denied response's headers, dynamic metadata never reaches the client.
      dynamicMetadata: expose ? { fields: { reason: { stringValue: answer.reason } } } : undefined,
    };
  }

  /**
   * The OK response of a shared answer (a cached principal's), built once and sent as it is
   * (grpc-lanes.ts); only shared answers, which live as long as their principal, are keys.
   */
  private okResponseOf(answer: Allowed): CheckResponse {
    return keptResponse(answer, () => okResponse(answer));
  }
}
