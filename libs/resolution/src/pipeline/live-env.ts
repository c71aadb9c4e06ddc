import type {
  LookupKey,
  NewUser,
  RevocationRepository,
  UserRecord,
  UserRepository,
} from '@resolver/identity';
import type { ResolverMetrics } from '@resolver/observability';
import type { Clock } from '@resolver/observability';
import type { TokenVerifier } from '@resolver/tokens';
import type { SubjectCaches } from '../cache/subject-caches';
import { SingleFlight } from '../cache/single-flight';
import type { JitOutcome, PipelineEnv } from './context';

/**
 * The pipeline's real dependencies, for ResolveSubject: the real caches (which count hits and
 * keep recency), the store with concurrent lookups of one key sharing one query, and the JIT
 * counter. Its peek-only twin is the diagnosis' `PeekEnv`.
 */
export class LiveEnv implements PipelineEnv {
  private readonly lookups = new SingleFlight<UserRecord | null>();

  constructor(
    readonly verifier: TokenVerifier,
    readonly caches: SubjectCaches,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    private readonly metrics: ResolverMetrics,
    private readonly clock: Clock,
    readonly maxTokenBytes: number,
  ) {}

  nowMs(): number {
    return this.clock.nowMs();
  }

  /** The store's answer, cached (found or not) for the next request; one query per key at a time. */
  findUser(key: LookupKey, userKey: string): Promise<UserRecord | null> {
    return this.lookups.run(userKey, async () => {
      const user = await this.users.findByKey(key);
      if (user) this.caches.putUser(userKey, user);
      else this.caches.putMissing(userKey);
      return user;
    });
  }

  isRevoked(issuer: string, jti: string): Promise<boolean> {
    return this.revocations.isRevoked(issuer, jti);
  }

  provision(key: LookupKey, user: NewUser): Promise<{ user: UserRecord; created: boolean }> {
    return this.users.provision(key, user);
  }

  countJit(issuer: string, outcome: JitOutcome): void {
    this.metrics.jit.labels(issuer, outcome).inc();
  }
}
