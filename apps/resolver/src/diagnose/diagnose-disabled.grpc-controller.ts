import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { adminOffReason, RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { AdminDisabled } from '../shared/admin-disabled';

/**
 * DiagnoseSubject while the admin API is off: still UNIMPLEMENTED, as before, but with a message
 * that says why and how to enable it instead of grpc-js's bare "not implemented" (the one error
 * path renders {@link AdminDisabled}, as it does for the HTTP routes).
 */
@Controller()
export class DiagnoseDisabledGrpcController {
  private readonly why: string;

  constructor(@Inject(RESOLVER_CONFIG) config: ResolverConfig) {
    this.why = adminOffReason(config) ?? 'the admin API is disabled';
  }

  @GrpcMethod('SubjectResolver', 'DiagnoseSubject')
  diagnoseSubject(): never {
    throw new AdminDisabled(this.why);
  }
}
