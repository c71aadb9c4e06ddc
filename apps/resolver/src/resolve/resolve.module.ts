import { Module } from '@nestjs/common';
import { CacheCoherence, ResolveSubject, SubjectCaches } from '@resolver/resolution';
import { ResolveRoute } from './resolve.route';
import { SubjectResolverGrpcController } from './subject-resolver.grpc-controller';

/**
 * ResolveSubject and its caches (one instance for every transport: the caches are the fast
 * path), served as POST /v1/resolve and gRPC SubjectResolver/ResolveSubject. Exports the use
 * case to the gateway adapters (authz) and the caches to readiness.
 */
@Module({
  providers: [ResolveSubject, SubjectCaches, CacheCoherence, ResolveRoute],
  controllers: [SubjectResolverGrpcController],
  exports: [ResolveSubject, SubjectCaches, CacheCoherence],
})
export class ResolveModule {}
