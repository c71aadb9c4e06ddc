import { Module } from '@nestjs/common';
import {
  CacheCoherence,
  ProofReplayPurge,
  ResolveSubject,
  SubjectCaches,
} from '@resolver/resolution';

/**
 * ResolveSubject and its caches, one instance for every feature that resolves or explains a
 * token (resolve, the gateway answers, diagnose) and for readiness: the caches are the fast
 * path, and their coherence is one LISTEN connection.
 */
@Module({
  providers: [ResolveSubject, SubjectCaches, CacheCoherence, ProofReplayPurge],
  exports: [ResolveSubject, SubjectCaches, CacheCoherence],
})
export class ResolutionModule {}
