import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { RevocationRepository, type UserRecord, UserRepository } from '@resolver/identity';
import { Clock, ResolverLogger, ResolverMetrics, UNKNOWN_ISSUER } from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import { TokenVerifier } from '@resolver/tokens';
import { deadlineExceeded, withDeadline } from './deadline';
import { type CachedToken, SubjectCaches } from './cache/subject-caches';
import type { PipelineContext } from './pipeline/context';
import { LiveEnv } from './pipeline/live-env';
import { checkWarm, runPipeline } from './pipeline/pipeline';
import { required } from './pipeline/step';
import { extract, tokenCache } from './pipeline/token-steps';
import { jtiClearInMemory } from './pipeline/user-steps';
import type {
  ForTheLog,
  GatewayContext,
  Principal,
  Resolution,
  ResolutionSource,
  ResolveRequest,
} from './resolution';

/**
 * The ResolveSubject use case: one pipeline for every transport. It runs the pipeline's named
 * steps (`pipeline/`) fail-fast with the real dependencies, and decides the outcome and the
 * reason; transports only translate. Counts and logs exactly once per call. DiagnoseSubject runs
 * the same steps with peek-only dependencies, so the two cannot disagree.
 *
 * Fast path: a repeated token whose user is cached is answered from memory — no signature check,
 * no SQL, and no promise chain or deadline, since it cannot wait on anything — but still against
 * the in-memory deny-list and the cached user's status and `tokens_valid_after`, which database
 * notifications keep current.
 */
@Injectable()
export class ResolveSubject {
  private readonly env: LiveEnv;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    verifier: TokenVerifier,
    users: UserRepository,
    revocations: RevocationRepository,
    private readonly caches: SubjectCaches,
    private readonly metrics: ResolverMetrics,
    clock: Clock,
    private readonly log: ResolverLogger,
  ) {
    this.env = new LiveEnv(
      verifier,
      caches,
      users,
      revocations,
      metrics,
      clock,
      config.limits.maxTokenBytes,
    );
  }

  /** Resolves the caller behind a token, or throws a {@link ResolutionError}. */
  async resolve(request: ResolveRequest): Promise<Resolution> {
    const started = performance.now();
    let ctx: PipelineContext | undefined;
    const timeoutMs = this.config.lifecycle.requestTimeoutMs;
    try {
      ctx = extract(request.token, request.authorization, this.env);
      tokenCache.run(ctx, this.env);
      const cached = ctx.cached;
      // The user cache is asked here only when the in-memory deny-list can answer for the token.
      const trusted = cached !== undefined && jtiClearInMemory(this.caches, cached);
      const user = trusted ? this.caches.getUser(cached.userKey) : undefined;
      // The deadline bounds every answer that waits; who ran out of time decides the reason.
      let resolution: Resolution;
      if (cached && user) resolution = answer(cached, user, 'CACHE');
      else {
        const running = ctx;
        running.userCacheAsked = trusted;
        resolution = await withDeadline(this.run(running), timeoutMs, () =>
          deadlineExceeded(running.phase, timeoutMs),
        );
      }
      this.metrics.record(
        request.transport,
        issuerOf(ctx),
        undefined,
        (performance.now() - started) / 1000,
      );
      return resolution;
    } catch (error) {
      // A bug is counted and logged once, by the transport's last error handler (InternalErrors),
      // which also sees failures in translating the answer after this returns.
      if (!isResolutionError(error)) throw error;
      const seconds = (performance.now() - started) / 1000;
      const requestId = forTheLog(request.requestId) ?? randomUUID();
      const issuer = issuerOf(ctx);
      this.metrics.record(request.transport, issuer, error.reason, seconds);
      // Never the token: the detail is built by our own code and carries no token material.
      this.log.resolutionFailure({
        requestId,
        transport: request.transport,
        issuer,
        reason: error.reason,
        latencyMs: seconds * 1000,
        subject: ctx?.token?.key.subject ?? ctx?.key?.subject,
        detail: error.message,
        context: boundedContext(forTheLog(request.context)),
      });
      throw error;
    }
  }

  /** The pipeline after the verified-token cache, fail-fast, and the answer it reached. */
  private async run(ctx: PipelineContext): Promise<Resolution> {
    await runPipeline(ctx, this.env);
    const token = required(ctx.token);
    const user = required(ctx.user ?? undefined);
    return resolutionOf(token, user, required(ctx.source));
  }
}

/** The issuer label of a call: the token's issuer once known. */
function issuerOf(ctx: PipelineContext | undefined): string {
  return ctx?.token?.issuer ?? ctx?.issuer?.config.issuer ?? UNKNOWN_ISSUER;
}

const MAX_CONTEXT_FIELDS = 8;
const MAX_CONTEXT_VALUE = 256;

/** A field only the failure log line reads: its value, read now if the transport deferred it. */
function forTheLog<T>(value: ForTheLog<T>): T {
  return typeof value === 'function' ? (value as () => T)() : value;
}

/** The gateway's view of the request for the log line: bounded in number and length. */
function boundedContext(context: GatewayContext | undefined): Record<string, string> | undefined {
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

/** The warm path's answer: the pipeline's own checks of a token and its user, then the answer. */
function answer(token: CachedToken, user: UserRecord, source: ResolutionSource): Resolution {
  checkWarm(token, user);
  return resolutionOf(token, user, source);
}

/** The answer for a user every check passed. */
function resolutionOf(token: CachedToken, user: UserRecord, source: ResolutionSource): Resolution {
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
