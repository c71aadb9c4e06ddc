import { Module } from '@nestjs/common';
import { ResolutionModule } from '../shared/resolution.module';
import { TransportModule } from '../transport/transport.module';
import { ResolveRoute } from './resolve.route';
import { SubjectResolverGrpcController } from './subject-resolver.grpc-controller';

/**
 * ResolveSubject served as POST /v1/resolve and gRPC SubjectResolver/ResolveSubject (the use
 * case and its caches are the one instance every feature shares: ResolutionModule).
 */
@Module({
  imports: [ResolutionModule, TransportModule],
  providers: [ResolveRoute],
  controllers: [SubjectResolverGrpcController],
})
export class ResolveModule {}
