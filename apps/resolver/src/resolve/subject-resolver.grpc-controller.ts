import type { Immutable } from '@resolver/config';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { REQUEST_ID_HEADER, requestIdFrom, TRACEPARENT } from '@resolver/observability';
import { presentedFromFields, ResolveSubject } from '@resolver/resolution';
import type {
  ResolveSubjectRequest__Output as ResolveSubjectRequest,
  ResolveSubjectResponse,
} from '@resolver/contract';
import {
  ClientCertificates,
  type GrpcCertificateInput,
} from '../transport/tls/client-certificates';
import { GrpcLanes, keptResponse } from '../transport/grpc-lanes';
import { throwLaneFault } from '../transport/lane-fault';
import { toResolveSubjectResponse } from './resolution-message';

/** ResolveSubject, as grpc-js names the method (the lane's key). */
const RESOLVE_SUBJECT_PATH = '/identity.v1.SubjectResolver/ResolveSubject';

/** identity.v1.SubjectResolver: translates gRPC to the use case and back, nothing more. */
@Controller()
export class SubjectResolverGrpcController {
  constructor(
    private readonly resolver: ResolveSubject,
    private readonly certificates: ClientCertificates,
    lanes: GrpcLanes,
  ) {
    lanes.add(RESOLVE_SUBJECT_PATH, (request, metadata) =>
      this.resolveFromMemory(request as ResolveSubjectRequest, metadata),
    );
  }

  /**
   * The lane (grpc-lanes.ts): a repeated token of a cached user, answered with no promise;
   * undefined for anything else, which {@link resolveSubject} answers.
   */
  resolveFromMemory(
    request: ResolveSubjectRequest,
    metadata: Metadata,
  ): Immutable<ResolveSubjectResponse> | undefined {
    const [authorization] = metadata.get('authorization');
    const resolution = this.resolver.answerFromMemory({
      token: request.token,
      authorization: typeof authorization === 'string' ? authorization : undefined,
      transport: 'grpc',
    });
    // Built once per answer and sent as it is (grpc-lanes.ts keeps its encoding).
    return resolution && keptResponse(resolution, () => toResolveSubjectResponse(resolution));
  }

  @GrpcMethod('SubjectResolver', 'ResolveSubject')
  async resolveSubject(
    request: ResolveSubjectRequest,
    metadata: Metadata,
    call: GrpcCertificateInput,
  ): Promise<Immutable<ResolveSubjectResponse>> {
    throwLaneFault(call);
    const [authorization] = metadata.get('authorization');
    const resolution = await this.resolver.resolve({
      token: request.token,
      authorization: typeof authorization === 'string' ? authorization : undefined,
      transport: 'grpc',
      // Read only for a failure's log line: a warm call allocates no id.
      requestId: () => requestIdFrom(metadata.get(REQUEST_ID_HEADER)),
      traceparent: () => metadata.get(TRACEPARENT),
      // Read only for a sender-bound token: the request the backend received, as it says.
      presented: () => {
        const [dpop] = metadata.get('dpop');
        const presented = presentedFromFields(
          {
            dpopProof: request.dpopProof,
            method: request.method,
            uri: request.uri,
            clientCertificate: request.clientCertificate,
          },
          typeof dpop === 'string' ? dpop : undefined,
        );
        return {
          ...presented,
          ...this.certificates.ofResolveGrpc(call, presented.clientCertificate),
        };
      },
    });
    return toResolveSubjectResponse(resolution);
  }
}
