import { Controller } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { type Metadata, status } from '@grpc/grpc-js';
import { DiagnoseSubject, presentedFromFields } from '@resolver/resolution';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
import {
  ClientCertificates,
  type GrpcCertificateInput,
} from '../transport/tls/client-certificates';
import type {
  DiagnoseSubjectRequest__Output as DiagnoseSubjectRequest,
  DiagnoseSubjectResponse,
} from '@resolver/contract';
import { toDiagnoseSubjectResponse } from './diagnosis-json';

/**
 * identity.v1.SubjectResolver/DiagnoseSubject: the admin credential in the `authorization`
 * metadata, the token to diagnose in the request. Registered only when an admin credential is
 * configured; without it DiagnoseDisabledGrpcController answers UNIMPLEMENTED, saying why. A diagnosis never fails on the token (the
 * verdict is data), so the only error here is the credential's: UNAUTHENTICATED.
 */
@Controller()
export class DiagnoseGrpcController {
  constructor(
    private readonly diagnosis: DiagnoseSubject,
    private readonly credential: AdminCredentialGuard,
    private readonly certificates: ClientCertificates,
  ) {}

  @GrpcMethod('SubjectResolver', 'DiagnoseSubject')
  async diagnoseSubject(
    request: DiagnoseSubjectRequest,
    metadata: Metadata,
    call: GrpcCertificateInput,
  ): Promise<DiagnoseSubjectResponse> {
    const [authorization] = metadata.get('authorization');
    if (!this.credential.accepts(typeof authorization === 'string' ? authorization : undefined)) {
      throw new RpcException({
        code: status.UNAUTHENTICATED,
        message: 'a valid admin bearer credential is required',
      });
    }
    const report = await this.diagnosis.diagnose({
      token: request.token,
      scheme: request.scheme,
      // ResolveSubject's fields, believed on the same terms (read only by the binding step).
      presented: () => {
        const presented = presentedFromFields({
          dpopProof: request.dpopProof,
          method: request.method,
          uri: request.uri,
          clientCertificate: request.clientCertificate,
        });
        return {
          ...presented,
          ...this.certificates.ofResolveGrpc(call, presented.clientCertificate),
        };
      },
    });
    return toDiagnoseSubjectResponse(report);
  }
}
