import { type DynamicModule, Module } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { DiagnoseSubject } from '@resolver/resolution';
import { AdminCredentialModule } from '../shared/admin-credential.module';
import { ResolutionModule } from '../shared/resolution.module';
import { TransportModule } from '../transport/transport.module';
import { DiagnoseDisabledGrpcController } from './diagnose-disabled.grpc-controller';
import { DiagnoseController } from './diagnose.controller';
import { DiagnoseGrpcController } from './diagnose.grpc-controller';

/**
 * DiagnoseSubject over HTTP and gRPC. It explains refusals to operators, so it is admin-only
 * like the rest of the admin API: without an admin credential only the gRPC method remains, to
 * say why it is off (the HTTP route's 404 comes from the admin module's disabled variant).
 */
@Module({})
export class DiagnoseModule {
  static forRoot(config: ResolverConfig): DynamicModule {
    if (!config.admin)
      return { module: DiagnoseModule, controllers: [DiagnoseDisabledGrpcController] };
    return {
      module: DiagnoseModule,
      imports: [ResolutionModule, AdminCredentialModule, TransportModule],
      providers: [DiagnoseSubject],
      controllers: [DiagnoseController, DiagnoseGrpcController],
    };
  }
}
