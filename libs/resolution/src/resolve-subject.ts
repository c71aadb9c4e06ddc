import { hash as digest, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import {
  type LookupKey,
  provisioningInput,
  RevocationRepository,
  type UserRecord,
  UserRepository,
} from '@resolver/identity';
import { Clock, ResolverLogger, ResolverMetrics, UNKNOWN_ISSUER } from '@resolver/observability';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { TokenVerifier, type VerifiedToken } from '@resolver/tokens';
import { extractToken } from './bearer';
import { deadlineExceeded, type Phase, withDeadline } from './deadline';
import { type CachedToken, SubjectCaches, userCacheKey } from './cache/subject-caches';
import { SingleFlight } from './cache/single-flight';
import type {
  Principal,
  Resolution,
  ResolutionSource,
  ResolveRequest,
  TokenInfo,
} from './resolution';
import { lookupKeyFor } from './subject-key';
import { assertUsable } from './user-status';

/**
 * The ResolveSubject use case: one pipeline for every transport. It decides the outcome and the
 * reason; transports only translate. Counts and logs exactly once per call.
 *
 * Fast path: a repeated token whose user is cached is answered from memory — no signature check,
 * no SQL, and no promise chain or deadline, since it cannot wait on anything — but still against
 * the in-memory deny-list and the cached user's status and `tokens_valid_after`, which database
 * notifications keep current.
 */
@Injectable()
export class ResolveSubject {
  private readonly lookups = new SingleFlight<{
    user: UserRecord | null;
    source: ResolutionSource;
  }>();

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    private readonly caches: SubjectCaches,
    private readonly metrics: ResolverMetrics,
    private readonly clock: Clock,
    private readonly log: ResolverLogger,
  ) {}

  /** Resolves the caller behind a token, or throws a {@link ResolutionError}. */
  async resolve(request: ResolveRequest): Promise<Resolution> {
    const started = performance.now();
    const trace: Trace = { issuer: UNKNOWN_ISSUER, phase: 'request' };
    const timeoutMs = this.config.lifecycle.requestTimeoutMs;
    try {
      const raw = extractToken(
        request.token,
        request.authorization,
        this.config.limits.maxTokenBytes,
      );
      const hash = digest('sha256', raw, 'base64url');
      const cached = this.cachedToken(hash);
      // The user cache is asked here only when the in-memory deny-list can answer for the token.
      const trusted = cached !== undefined && this.clearInMemory(cached);
      const user = trusted ? this.caches.getUser(cached.userKey) : undefined;
      // The deadline bounds every answer that waits; who ran out of time decides the reason.
      const resolution =
        cached && user
          ? this.fromMemory(cached, user, trace)
          : await withDeadline(this.run(raw, hash, cached, trusted, trace), timeoutMs, () =>
              deadlineExceeded(trace.phase, timeoutMs),
            );
      this.metrics.record(
        request.transport,
        trace.issuer,
        undefined,
        (performance.now() - started) / 1000,
      );
      return resolution;
    } catch (error) {
      // A bug is counted and logged once, by the transport's last error handler (InternalErrors),
      // which also sees failures in translating the answer after this returns.
      if (!isResolutionError(error)) throw error;
      const seconds = (performance.now() - started) / 1000;
      const requestId = request.requestId ?? randomUUID();
      this.metrics.record(request.transport, trace.issuer, error.reason, seconds);
      // Never the token: the detail is built by our own code and carries no token material.
      this.log.resolutionFailure({
        requestId,
        transport: request.transport,
        issuer: trace.issuer,
        reason: error.reason,
        latencyMs: seconds * 1000,
        subject: trace.subject,
        detail: error.message,
        context: boundedContext(request.context),
      });
      throw error;
    }
  }

  /** True when the in-memory deny-list is trusted and does not list the token's `jti`. */
  private clearInMemory(token: CachedToken): boolean {
    const jti = token.info.jti;
    return !jti || this.caches.isRevoked(token.issuer, jti) === false;
  }

  /** The answer when everything it needs was in memory: a cached token and a cached user. */
  private fromMemory(token: CachedToken, user: UserRecord, trace: Trace): Resolution {
    trace.issuer = token.issuer;
    trace.subject = token.key.subject;
    return answer(token, user, 'CACHE');
  }

  /** The verified-token cache entry, if still valid. */
  private cachedToken(hash: string): CachedToken | undefined {
    const token = this.caches.getToken(hash);
    // A cached entry never outlives `exp`, but the clock tolerance must not extend it either.
    if (token?.expiresAtMs !== undefined && token.expiresAtMs <= this.clock.nowMs())
      return undefined;
    return token;
  }

  /**
   * The full path. `userCacheAsked`: the caller already asked the user cache for this token's
   * key and missed, so it is not asked (and counted) twice.
   */
  private async run(
    raw: string,
    hash: string,
    cached: CachedToken | undefined,
    userCacheAsked: boolean,
    trace: Trace,
  ): Promise<Resolution> {
    let token = cached;
    let verified: VerifiedToken | undefined;
    if (!token) {
      const decoded = this.verifier.decode(raw);
      const issuer = this.verifier.select(decoded);
      trace.issuer = issuer.config.issuer;
      trace.phase = 'keys';
      verified = await issuer.verify(raw, decoded);
      const key = lookupKeyFor(verified);
      token = {
        issuer: verified.issuer.issuer,
        key,
        userKey: userCacheKey(key),
        info: toTokenInfo(verified, key.subject),
        issuedAtMs: verified.issuedAt?.getTime(),
        expiresAtMs: verified.expiresAt?.getTime(),
      };
      this.caches.putToken(hash, token);
    }
    trace.issuer = token.issuer;
    trace.subject = token.key.subject;
    trace.phase = 'store';
    await this.checkRevoked(token);

    let source: ResolutionSource = 'CACHE';
    let user = userCacheAsked ? undefined : this.caches.getUser(token.userKey);
    if (!user) {
      const found = await this.lookup(token.key, token.userKey);
      user = found.user ?? undefined;
      source = found.source;
      if (!user) {
        const policy = this.verifier.issuer(token.issuer)?.config;
        const jitAllowed =
          token.key.kind === 'service'
            ? policy?.serviceAccounts?.jit === true
            : policy?.jit.enabled === true;
        if (!jitAllowed)
          throw new ResolutionError(
            'USER_NOT_FOUND',
            `no ${token.key.kind} for this subject and JIT is off`,
          );
        // JIT needs the claims: a cached token (rare here: it was answered before) is re-verified.
        trace.phase = 'keys';
        verified ??= await this.verifier.verify(raw);
        trace.phase = 'store';
        user = await this.provision(verified, token.key);
        this.caches.putUser(token.userKey, user);
        source = 'PROVISIONED';
      }
    }
    return answer(token, user, source);
  }

  private async checkRevoked(token: CachedToken): Promise<void> {
    const jti = token.info.jti;
    if (!jti) return;
    const revoked =
      this.caches.isRevoked(token.issuer, jti) ??
      (await this.revocations.isRevoked(token.issuer, jti).catch((error: unknown) => {
        // Outage mode: the deny-list as last known, within the staleness bound; else the error.
        const stale = this.caches.staleRevoked(token.issuer, jti);
        if (stale === undefined) throw error;
        return stale;
      }));
    if (revoked) throw new ResolutionError('TOKEN_REVOKED', 'token jti is on the deny-list');
  }

  /**
   * Store lookup with single flight; caches the answer, found or not. In outage mode a store
   * failure falls back to the user known a moment before the store went away (source CACHE).
   * `userKey` is `key`'s {@link userCacheKey}.
   */
  private async lookup(
    key: LookupKey,
    userKey: string,
  ): Promise<{ user: UserRecord | null; source: ResolutionSource }> {
    if (this.caches.isKnownMissing(userKey)) return { user: null, source: 'CACHE' };
    return this.lookups.run(userKey, async () => {
      let user: UserRecord | null;
      try {
        user = await this.users.findByKey(key);
      } catch (error) {
        const stale =
          isResolutionError(error) && error.reason === 'USER_STORE_UNAVAILABLE'
            ? this.caches.staleUser(userKey)
            : undefined;
        if (!stale) throw error;
        return { user: stale, source: 'CACHE' };
      }
      if (user) this.caches.putUser(userKey, user);
      else this.caches.putMissing(userKey);
      return { user, source: 'STORE' };
    });
  }

  private async provision(token: VerifiedToken, key: LookupKey): Promise<UserRecord> {
    const issuer = token.issuer.issuer;
    try {
      const { user, created } = await this.users.provision(
        key,
        provisioningInput(key, token.claims, token.issuer.jit),
      );
      this.metrics.jit.labels(issuer, created ? 'created' : 'existing').inc();
      return user;
    } catch (error) {
      const rejected = isResolutionError(error) && error.reason === 'PROVISIONING_REJECTED';
      this.metrics.jit.labels(issuer, rejected ? 'rejected' : 'error').inc();
      throw error;
    }
  }
}

const MAX_CONTEXT_FIELDS = 8;
const MAX_CONTEXT_VALUE = 256;

/** What the failure log line and the deadline need to know about a call in progress. */
interface Trace {
  issuer: string;
  phase: Phase;
  subject?: string;
}

/** The gateway's view of the request for the log line: bounded in number and length. */
function boundedContext(context: ResolveRequest['context']): Record<string, string> | undefined {
  if (!context) return undefined;
  const entries = Object.entries(context)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
    .slice(0, MAX_CONTEXT_FIELDS)
    .map(([k, v]): [string, string] => [
      k.replace(/[^A-Za-z0-9_]/g, '_'),
      v.slice(0, MAX_CONTEXT_VALUE),
    ]);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** The checks every answer passes, from memory or not, and the answer itself. */
function answer(token: CachedToken, user: UserRecord, source: ResolutionSource): Resolution {
  if (user.kind !== token.key.kind) {
    throw new ResolutionError(
      'USER_NOT_FOUND',
      `the subject maps to a ${user.kind}, the token is a ${token.key.kind} token`,
    );
  }
  if (
    user.tokensValidAfter &&
    (token.issuedAtMs === undefined || token.issuedAtMs < user.tokensValidAfter.getTime())
  ) {
    throw new ResolutionError(
      'TOKEN_REVOKED',
      'token issued before the user signed out everywhere',
    );
  }
  assertUsable(user);
  // Memoised only for a record from the user cache, which is seen again. A record just read
  // from the store is usually garbage after this answer; keyed into a long-lived WeakMap it
  // would be kept through young collections (in a reproduction, fresh keys and values in an old
  // WeakMap turned 0 major GCs into 116).
  return {
    principal: source === 'CACHE' ? principalOf(user) : toPrincipal(user),
    token: token.info,
    source,
  };
}

/**
 * A cached user record's principal, built once per record: cached records are shared and never
 * mutated (a change replaces the record), so the principal can be shared with them.
 */
const principals = new WeakMap<UserRecord, Principal>();
function principalOf(user: UserRecord): Principal {
  let principal = principals.get(user);
  if (!principal) principals.set(user, (principal = toPrincipal(user)));
  return principal;
}

function toPrincipal(user: UserRecord): Principal {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(user.attributes))
    attributes[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return {
    id: user.id,
    kind: user.kind,
    tenantId: user.tenant,
    email: user.email ?? '',
    username: user.username ?? '',
    displayName: user.displayName ?? '',
    roles: user.roles,
    status: user.status,
    attributes,
  };
}

function toTokenInfo(token: VerifiedToken, subject: string): TokenInfo {
  return {
    issuer: token.issuer.issuer,
    subject,
    audience: token.audience,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    jti: token.jti ?? '',
    scopes: token.scopes,
  };
}
