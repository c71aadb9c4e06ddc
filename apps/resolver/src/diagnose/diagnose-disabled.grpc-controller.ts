import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { adminOffReason, RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';

/**
 * DiagnoseSubject while the admin API is off: still UNIMPLEMENTED, as before, but with a message
 * that says why and how to enable it instead of grpc-js's bare "not implemented".
 */
@Controller()
export class DiagnoseDisabledGrpcController {
  private readonly message: string;

  constructor(@Inject(RESOLVER_CONFIG) config: ResolverConfig) {
    this.message = `DiagnoseSubject is admin-only and ${adminOffReason(config) ?? 'the admin API is disabled'}`;
  }

  @GrpcMethod('SubjectResolver', 'DiagnoseSubject')
  diagnoseSubject(): never {
    throw new RpcException({ code: status.UNIMPLEMENTED, message: this.message });
  }
}
