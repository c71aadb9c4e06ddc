import type {
  LookupKey,
  NewUser,
  ProofReplayRepository,
  Provisioned,
  RevocationRepository,
  UserRecord,
  UserRepository,
} from '@resolver/identity';
import { isResolutionError } from '@resolver/reasons';
import type { ResolverMetrics } from '@resolver/observability';
import type { Clock } from '@resolver/observability';
import type { IntrospectedToken, IntrospectionClient, TokenVerifier } from '@resolver/tokens';
import type { SubjectCaches } from '../cache/subject-caches';
import { SingleFlight } from '../cache/single-flight';
import type { JitOutcome, PipelineEnv } from './context';
import type { PipelineSpans } from './pipeline-spans';

/**
 * The pipeline's real dependencies, for ResolveSubject: the real caches (which count hits and
 * keep recency), the store with concurrent lookups of one key sharing one query, and the JIT
 * counter. Its peek-only twin is the diagnosis' `PeekEnv`.
 */
export class LiveEnv implements PipelineEnv {
  private readonly lookups = new SingleFlight<UserRecord | null>();
  private readonly provisions = new SingleFlight<Provisioned>();

  constructor(
    readonly verifier: TokenVerifier,
    readonly caches: SubjectCaches,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    private readonly metrics: ResolverMetrics,
    private readonly clock: Clock,
    readonly maxTokenBytes: number,
    private readonly proofs: ProofReplayRepository,
    /** With tracing on: each store call the request makes in a client span. */
    private readonly spans?: PipelineSpans,
  ) {}

  nowMs(): number {
    return this.clock.nowMs();
  }

  /**
   * The store's answer, cached (found or not) for the next request; one query per key at a time,
   * bounded by the deadline of the request that asked first (the others arrived later and share
   * its answer, or its failure).
   */
  findUser(key: LookupKey, userKey: string, deadlineAt?: number): Promise<UserRecord | null> {
    return this.lookups.run(userKey, async () => {
      const query = () => this.users.findByKey(key, { deadlineAt });
      const user = await (this.spans ? this.spans.store('findUser', query) : query());
      if (user) this.caches.putUser(userKey, user);
      else this.caches.putMissing(userKey);
      return user;
    });
  }

  isRevoked(issuer: string, jti: string): Promise<boolean> {
    if (!this.spans) return this.revocations.isRevoked(issuer, jti);
    return this.spans.store('isRevoked', () => this.revocations.isRevoked(issuer, jti));
  }

  /**
   * JIT, coalesced: the first requests of one new subject on this replica (a burst of first
   * logins sends many at once) share one store call, counted once. The flight is keyed by the
   * user key *and* the user the claims ask for: two tokens of one subject with different claims
   * each get their own call (the store then decides between them), so no request is answered
   * from another token's claims, and a refusal of one token's email is never another's.
   * Bounded by the deadline of the request that asked first, like the lookup.
   */
  provision(
    key: LookupKey,
    userKey: string,
    user: NewUser,
    deadlineAt?: number,
  ): Promise<Provisioned> {
    return this.provisions.run(`${userKey}\u0000${JSON.stringify(user)}`, async () => {
      try {
        const store = () => this.users.provision(key, user, { deadlineAt });
        const provisioned = await (this.spans ? this.spans.store('provision', store) : store());
        this.countJit(key.issuer, provisioned.created ? 'created' : 'existing');
        return provisioned;
      } catch (error) {
        const rejected = isResolutionError(error) && error.reason === 'PROVISIONING_REJECTED';
        this.countJit(key.issuer, rejected ? 'rejected' : 'error');
        throw error;
      }
    });
  }

  rememberProof(jkt: string, jti: string, untilMs: number, deadlineAt?: number): Promise<boolean> {
    return this.proofs.remember(jkt, jti, new Date(untilMs), this.clock.now(), deadlineAt);
  }

  introspect(client: IntrospectionClient, token: string, hash: string): Promise<IntrospectedToken> {
    return client.introspect(token, hash);
  }

  countJit(issuer: string, outcome: JitOutcome): void {
    this.metrics.jit.labels(issuer, outcome).inc();
  }
}
