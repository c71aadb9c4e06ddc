import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { ProofReplayRepository, RevocationRepository, UserRepository } from '@resolver/identity';
import {
  activeTraceId,
  Clock,
  ResolverLogger,
  ResolverMetrics,
  type TokenFormatLabel,
  traceIdOf,
  Tracing,
  UNKNOWN_ISSUER,
} from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import { TokenVerifier } from '@resolver/tokens';
import {
  DEADLINE_GRANULARITY_MS,
  deadlineExceeded,
  processBehindSince,
  withDeadline,
} from './deadline';
import { SubjectCaches } from './cache/subject-caches';
import { answer, passesWarm, resolutionOf, warmAnswerOf } from './answers';
import type { PipelineContext } from './pipeline/context';
import { LiveEnv } from './pipeline/live-env';
import { needsBinding } from './pipeline/binding-step';
import { runPipeline } from './pipeline/pipeline';
import { PipelineSpans } from './pipeline/pipeline-spans';
import { required } from './pipeline/step';
import { extract, tokenCache, unexpired } from './pipeline/token-steps';
import { jtiClearInMemory } from './pipeline/user-steps';
import type { ForTheLog, GatewayContext, Resolution, ResolveRequest } from './resolution';

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
  /** With tracing on: the steps that run, each in its span. Undefined (and never asked) when off. */
  private readonly spans: PipelineSpans | undefined;
  /**
   * Token hash -> when the slow-path request in flight for it is answered (never failing). A
   * null-prototype object, like `SingleFlight`'s, for the same reason (no `Map` churn).
   */
  private readonly inFlight = Object.create(null) as Record<string, Promise<void>>;

  /**
   * The credential {@link answerFromMemory} extracted (and hashed) and could not answer: every
   * transport goes on to {@link resolve} with the same request at once, which takes it up rather
   * than extracting again. Extraction depends on the credential alone, so a match is the same
   * result. Held only until the next {@link resolve} (which forgets it, matched or not) or the
   * next credential left unanswered: one token at most, never past the next request.
   */
  private unanswered:
    { token: unknown; authorization: string | undefined; ctx: PipelineContext } | undefined;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    verifier: TokenVerifier,
    private readonly users: UserRepository,
    revocations: RevocationRepository,
    private readonly caches: SubjectCaches,
    private readonly metrics: ResolverMetrics,
    clock: Clock,
    private readonly log: ResolverLogger,
    proofs: ProofReplayRepository,
    @Optional() tracing: Tracing = Tracing.OFF,
  ) {
    this.spans = tracing.on ? new PipelineSpans(tracing) : undefined;
    this.env = new LiveEnv(
      verifier,
      caches,
      users,
      revocations,
      metrics,
      clock,
      config.limits.maxTokenBytes,
      proofs,
      this.spans,
    );
  }

  /**
   * The warm answer, synchronously: a repeated plain bearer token whose user is cached and passes
   * every check ({@link checkWarm}) is answered from memory, with no promise, and counted like
   * any answer. Undefined, with nothing counted or logged, for anything else — a new or bound
   * token, a refusal, tracing on — which {@link resolve} then answers in full. A transport on the
   * gateway's path asks this first and answers without a microtask when it can.
   */
  answerFromMemory(request: ResolveRequest): Resolution | undefined {
    if (this.spans) return undefined;
    const started = performance.now();
    let ctx: PipelineContext;
    try {
      ctx = extract(request.token, request.authorization, this.env);
    } catch {
      return undefined;
    }
    // Lookups that count nothing unless they answer: the full path asks (and counts) again.
    const cached = unexpired(this.caches.findToken(ctx.hash), this.env.nowMs());
    const user =
      cached && !needsBinding(cached, ctx.scheme) && jtiClearInMemory(this.caches, cached)
        ? this.caches.findUser(cached.userKey)
        : undefined;
    if (!cached || !user || !passesWarm(cached, user)) {
      this.unanswered = { token: request.token, authorization: request.authorization, ctx };
      return undefined;
    }
    this.caches.countWarmHit();
    const resolution = warmAnswerOf(cached, user);
    this.metrics.record(
      request.transport,
      cached.issuer,
      undefined,
      (performance.now() - started) / 1000,
    );
    this.metrics.recordFormat(cached.format, undefined);
    return resolution;
  }

  private extractFor(request: ResolveRequest): PipelineContext {
    const last = this.unanswered;
    this.unanswered = undefined;
    if (last && last.token === request.token && last.authorization === request.authorization) {
      const { raw, hash, scheme } = last.ctx;
      return { raw, hash, phase: 'request', scheme };
    }
    return extract(request.token, request.authorization, this.env);
  }

  /** Resolves the caller behind a token, or throws a {@link ResolutionError}. */
  async resolve(request: ResolveRequest): Promise<Resolution> {
    const started = performance.now();
    let ctx: PipelineContext | undefined;
    const timeoutMs = this.config.lifecycle.requestTimeoutMs;
    const spans = this.spans;
    try {
      // No closure on the untraced path: the warm answer allocates as little as it can.
      ctx = spans
        ? spans.sync('extract', 'request', () =>
            extract(request.token, request.authorization, this.env),
          )
        : this.extractFor(request);
      ctx.presented = request.presented;
      this.askTokenCache(ctx);
      const cached = ctx.cached;
      // The user cache is asked here only when the in-memory deny-list can answer for the token.
      const trusted = cached !== undefined && jtiClearInMemory(this.caches, cached);
      const user = trusted ? this.caches.getUser(cached.userKey) : undefined;
      // The deadline bounds every answer that waits; who ran out of time decides the reason.
      let resolution: Resolution;
      // A plain bearer token (no binding kept with it, sent as Bearer) is answered from memory;
      // a bound one runs the pipeline from the caches, its binding checked on this request.
      if (cached && user && !needsBinding(cached, ctx.scheme)) {
        if (spans) spans.warm(cached, user);
        resolution = answer(cached, user, 'CACHE', !spans);
      } else {
        const running = ctx;
        running.userCacheAsked = trusted && !user;
        running.storeDeadlineAt = Date.now() + timeoutMs - STORE_DEADLINE_MARGIN_MS;
        resolution = await this.resolveSlow(running, timeoutMs, !(cached && user));
      }
      this.metrics.record(
        request.transport,
        issuerOf(ctx),
        undefined,
        (performance.now() - started) / 1000,
      );
      this.metrics.recordFormat(formatOf(ctx), undefined);
      spans?.answered(resolution.source);
      return resolution;
    } catch (error) {
      // A bug is counted and logged once, by the transport's last error handler (InternalErrors),
      // which also sees failures in translating the answer after this returns.
      if (!isResolutionError(error)) throw error;
      const seconds = (performance.now() - started) / 1000;
      const requestId = forTheLog(request.requestId) ?? randomUUID();
      const issuer = issuerOf(ctx);
      this.metrics.record(request.transport, issuer, error.reason, seconds);
      this.metrics.recordFormat(formatOf(ctx), error.reason);
      spans?.refused(error.reason);
      // Never the token: the detail is built by our own code and carries no token material.
      this.log.resolutionFailure({
        requestId,
        traceId: spans ? activeTraceId() : traceIdOf(forTheLog(request.traceparent)),
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

  /**
   * The slow path, under the request's deadline, one token at a time: a request that brings a
   * token while another request with it is being answered waits for that answer (never past
   * its own deadline), then runs the pipeline itself, which now finds the token (and its user)
   * cached, with every per-request check. A burst of first logins sends each new token several
   * times at once: without this, each copy verified the token, and those that found it cached
   * before its user was provisioned verified it again for JIT (three verifications per token
   * and replica, measured). Whatever the first got, even a failure, each later one decides for
   * itself; a first request answered at its deadline lets the others go on, even if its work
   * has not ended.
   */
  private resolveSlow(
    ctx: PipelineContext,
    timeoutMs: number,
    coalesce: boolean,
  ): Promise<Resolution> {
    // A bound token whose user is cached has only its own proof to check: nothing to share.
    const first = coalesce ? this.inFlight[ctx.hash] : undefined;
    const work = first ? this.after(first, ctx) : this.run(ctx);
    const startedAt = Date.now();
    const answer = withDeadline(work, timeoutMs, () =>
      deadlineExceeded(ctx.phase, timeoutMs, this.overloadedSince(startedAt)),
    );
    if (coalesce && !first) {
      const answered = answer.then(
        () => undefined,
        () => undefined,
      );
      this.inFlight[ctx.hash] = answered;
      void answered.then(() => delete this.inFlight[ctx.hash]);
    }
    return answer;
  }

  /**
   * Why a deadline since `startedAt` is overload, not an outage, if it is: the store kept
   * answering meanwhile, and either requests queued for its connections or this process's
   * event loop ran behind. A store that answered nothing is down, however busy this process.
   */
  private overloadedSince(startedAt: number): string | undefined {
    if (this.users.busySince(startedAt))
      return 'requests queued for a store connection while the store kept answering';
    const behind = processBehindSince(startedAt);
    return behind && this.users.answeredSince(startedAt)
      ? `${behind} while the store kept answering`
      : undefined;
  }

  /** Once `first` has been answered: this request's own pipeline, from the caches. */
  private async after(first: Promise<void>, ctx: PipelineContext): Promise<Resolution> {
    await first;
    this.askTokenCache(ctx);
    ctx.userCacheAsked = false;
    return this.run(ctx);
  }

  /** The verified-token cache step (in its span with tracing on; no closure when off). */
  private askTokenCache(ctx: PipelineContext): void {
    if (this.spans)
      this.spans.sync(tokenCache.name, tokenCache.stage, () => tokenCache.run(ctx, this.env));
    else tokenCache.run(ctx, this.env);
  }

  /** The pipeline after the verified-token cache, fail-fast, and the answer it reached. */
  private async run(ctx: PipelineContext): Promise<Resolution> {
    await (this.spans ? this.spans.run(ctx, this.env) : runPipeline(ctx, this.env));
    const token = required(ctx.token);
    const user = required(ctx.user ?? undefined);
    return resolutionOf(token, user, required(ctx.source));
  }
}

/**
 * How long before the request's deadline the store gives up: a store call that could not get a
 * connection fails (as overloaded, if it was) before the deadline sweep answers "did not
 * answer in time", and nothing is started for a request that is about to be answered.
 */
const STORE_DEADLINE_MARGIN_MS = 2 * DEADLINE_GRANULARITY_MS;

/** The issuer label of a call: the token's issuer once known. */
function issuerOf(ctx: PipelineContext | undefined): string {
  return ctx?.token?.issuer ?? ctx?.issuer?.config.issuer ?? UNKNOWN_ISSUER;
}

/** The format label of a call: the cached token's format, or the format step's answer. */
function formatOf(ctx: PipelineContext | undefined): TokenFormatLabel {
  return ctx?.cached?.format ?? ctx?.format ?? 'none';
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
