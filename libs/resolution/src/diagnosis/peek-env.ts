import type {
  LookupKey,
  NewUser,
  ProofReplayRepository,
  RevocationRepository,
  UserRecord,
} from '@resolver/identity';
import { UserRepository } from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';
import type { IntrospectedToken, IntrospectionClient, TokenVerifier } from '@resolver/tokens';
import type { SubjectCaches } from '../cache/subject-caches';
import type { PipelineCaches, PipelineEnv } from '../pipeline/context';

/**
 * The caches as the diagnosis sees them: what ResolveSubject would read (nothing while caches are
 * not coherent), without touching recency or hit counters; writes do nothing.
 */
export function peekCaches(caches: SubjectCaches, nowMs: number): PipelineCaches {
  return {
    getToken: (hash) => (caches.coherent ? caches.tokens.peek(hash, nowMs) : undefined),
    putToken: () => undefined,
    getUser: (userKey) => (caches.coherent ? caches.users.peek(userKey, nowMs) : undefined),
    putUser: () => undefined,
    isKnownMissing: (userKey) =>
      caches.coherent && caches.negative.peek(userKey, nowMs) !== undefined,
    putMissing: () => undefined,
    isRevoked: (issuer, jti) => caches.isRevoked(issuer, jti),
    staleRevoked: (issuer, jti) => caches.staleRevoked(issuer, jti),
    staleUser: (userKey) => caches.staleUser(userKey),
  };
}

/**
 * The pipeline's dependencies for one diagnosis: peek-only. Every check the real ones make is
 * made — provisioning runs in a rolled-back transaction, conflicts included — and nothing is
 * written, cached or counted. The store's answer for a key is asked once per diagnosis (the
 * report shows it too), and once the store has not answered the ping, nothing waits on it again.
 */
export class PeekEnv implements PipelineEnv {
  readonly caches: PipelineCaches;
  readonly maxTokenBytes: number;
  /** Set when the store did not answer the diagnosis' ping. */
  storeDown = false;
  private readonly found = new Map<string, Promise<UserRecord | null>>();

  constructor(
    readonly verifier: TokenVerifier,
    caches: SubjectCaches,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    maxTokenBytes: number,
    private readonly now: number,
    private readonly proofs: ProofReplayRepository,
  ) {
    this.caches = peekCaches(caches, now);
    this.maxTokenBytes = maxTokenBytes;
  }

  nowMs(): number {
    return this.now;
  }

  private storeAvailable(): void {
    if (this.storeDown)
      throw new ResolutionError(
        'USER_STORE_UNAVAILABLE',
        'the user store did not answer the diagnosis ping',
      );
  }

  findUser(key: LookupKey, userKey: string): Promise<UserRecord | null> {
    let answer = this.found.get(userKey);
    if (!answer) {
      answer = Promise.resolve().then(() => {
        this.storeAvailable();
        return this.users.findByKey(key);
      });
      this.found.set(userKey, answer);
    }
    return answer;
  }

  async isRevoked(issuer: string, jti: string): Promise<boolean> {
    this.storeAvailable();
    return this.revocations.isRevoked(issuer, jti);
  }

  async provision(
    key: LookupKey,
    _userKey: string,
    user: NewUser,
    deadlineAt?: number,
  ): Promise<{ user: UserRecord; created: boolean }> {
    this.storeAvailable();
    return this.users.provision(key, user, { dryRun: true, deadlineAt });
  }

  /** The endpoint is asked (introspection changes nothing there); the cache is never written. */
  introspect(client: IntrospectionClient, token: string, hash: string): Promise<IntrospectedToken> {
    return client.introspect(token, hash, true);
  }

  /** Whether the proof would be accepted as new: the store is read, never written. */
  async rememberProof(jkt: string, jti: string): Promise<boolean> {
    this.storeAvailable();
    return !(await this.proofs.isHeld(jkt, jti, new Date(this.now)));
  }

  countJit(): void {}
}
