import { Controller } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { type Metadata, status } from '@grpc/grpc-js';
import { DiagnoseSubject } from '@resolver/resolution';
import { AdminCredentialGuard } from '../shared/admin-credential.guard';
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
  ) {}

  @GrpcMethod('SubjectResolver', 'DiagnoseSubject')
  async diagnoseSubject(
    request: DiagnoseSubjectRequest,
    metadata: Metadata,
  ): Promise<DiagnoseSubjectResponse> {
    const [authorization] = metadata.get('authorization');
    if (!this.credential.accepts(typeof authorization === 'string' ? authorization : undefined)) {
      throw new RpcException({
        code: status.UNAUTHENTICATED,
        message: 'a valid admin bearer credential is required',
      });
    }
    return toDiagnoseSubjectResponse(await this.diagnosis.diagnose({ token: request.token }));
  }
}
