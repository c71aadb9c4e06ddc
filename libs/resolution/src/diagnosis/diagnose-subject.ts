import { writeIntrospection } from './advice/introspection-advice';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { Clock, Tracing } from '@resolver/observability';
import {
  NearMissRepository,
  ProofReplayRepository,
  RevocationRepository,
  ScimProvenanceRepository,
  type UserRecord,
  UserRepository,
} from '@resolver/identity';
import { provisioningInput } from '@resolver/policy';
import { isResolutionError, presentReason, ResolutionError } from '@resolver/reasons';
import { selectKeys, TokenVerifier } from '@resolver/tokens';
import { SubjectCaches, userCacheKey } from '../cache/subject-caches';
import { issuerPolicy, type PipelineContext } from '../pipeline/context';
import { PIPELINE } from '../pipeline/pipeline';
import { PipelineSpans } from '../pipeline/pipeline-spans';
import { extract, tokenCache } from '../pipeline/token-steps';
import { checkKind, jitAllowed } from '../pipeline/user-steps';
import { assertUsable } from '../user-status';
import { writeBinding } from './advice/binding-advice';
import { writeCache } from './advice/cache-advice';
import { writeDecrypt, writeFormat } from './advice/format-advice';
import { writeSubjectAndTenant } from './advice/subject-advice';
import {
  writeClaims,
  writeDecode,
  writeIssuer,
  writeKey,
  writeSignature,
  writeTime,
} from './advice/token-advice';
import { writeJit, writeRevocation, writeStore, writeUser } from './advice/user-advice';
import type { PresentedRequest } from '../resolution';
import type { Diagnosis, DiagnosisVerdict } from './diagnosis';
import { humanTime } from './human-time';
import { PeekEnv } from './peek-env';
import { messageOf, type Observations, Report, type ReportInput } from './report';
import { StepRecorder } from './step-recorder';

/** Input of a diagnosis: the token to explain (a compact JWT), as received. */
export interface DiagnoseRequest {
  readonly token?: unknown;
  /**
   * The request the token came with (its DPoP proof, method and URI, client certificate), to
   * check a sender-bound token's binding as ResolveSubject would; absent, a bound token's
   * binding step says what the request must carry.
   */
  readonly presented?: PresentedRequest | (() => PresentedRequest);
  /** The Authorization header it came with (`DPoP <token>` for a DPoP-bound token). */
  readonly authorization?: string;
  /**
   * The scheme `token` was sent with (`Bearer` or `DPoP`), as the transports' diagnose requests
   * say it (their Authorization header is the admin credential): `token` is then read as that
   * header's credentials, as ResolveSubject reads them. Absent or empty: a request field.
   */
  readonly scheme?: unknown;
}

/**
 * The DiagnoseSubject use case: runs ResolveSubject's own pipeline steps on one token, with
 * peek-only dependencies ({@link PeekEnv}: no writes, no cache writes, no metrics), and records
 * each step's outcome. Where a step refuses, it goes on where a later step can still say
 * something (on claims flagged as unverified). The verdict is the first refusal of a step
 * ResolveSubject would run, so it is the answer ResolveSubject would give now — including when
 * that answer comes from a cache that disagrees with the store (the cache step says so).
 *
 * The operator text (findings and fixes) is written from the outcomes by `advice/`; this file
 * only runs the steps and gathers what the report needs to show. The one thing a diagnosis may
 * cause, like any resolution would, is a fetch of the issuer's JWKS.
 */
@Injectable()
export class DiagnoseSubject {
  /** With tracing on: each step the diagnosis runs in its span. */
  private readonly spans: PipelineSpans | undefined;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    private readonly nearMisses: NearMissRepository,
    private readonly caches: SubjectCaches,
    private readonly clock: Clock,
    private readonly scim: ScimProvenanceRepository,
    private readonly proofs: ProofReplayRepository,
    @Optional() tracing: Tracing = Tracing.OFF,
  ) {
    this.spans = tracing.on ? new PipelineSpans(tracing) : undefined;
  }

  async diagnose(request: DiagnoseRequest): Promise<Diagnosis> {
    const now = this.clock.now();
    const env = new PeekEnv(
      this.verifier,
      this.caches,
      this.users,
      this.revocations,
      this.config.limits.maxTokenBytes,
      now.getTime(),
      this.proofs,
    );
    const steps = new StepRecorder();
    const seen: Observations = {};
    const ctx = await this.run(request, env, steps, seen);
    return report({ now, config: this.config, ctx, steps, seen });
  }

  /**
   * The pipeline's steps, as declared ({@link PIPELINE}), one by one: unlike ResolveSubject it
   * goes on past a refusal wherever a later step can still say something, marking what later
   * steps find as read from unverified claims; a token the cache answers still has its token
   * steps run (their refusals do not count: ResolveSubject would not run them). `undefined` when
   * not even a token could be extracted.
   */
  private async run(
    request: DiagnoseRequest,
    env: PeekEnv,
    steps: StepRecorder,
    seen: Observations,
  ): Promise<PipelineContext | undefined> {
    let ctx: PipelineContext;
    try {
      const { token, authorization } = credentialOf(request);
      ctx = extract(token, authorization, env);
      const presented = request.presented;
      if (presented) ctx.presented = typeof presented === 'function' ? presented : () => presented;
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      steps.fail('extract', error, true);
      return undefined;
    }
    tokenCache.run(ctx, env);
    const passed = new Set<string>();
    let signatureDoubt = false; // some signature step did not pass
    let verificationDoubt = false; // some verification step did not pass
    let storeObserved = false;
    for (const step of PIPELINE) {
      if (step.name === 'issuer')
        seen.configuredIssuers = this.verifier.issuers().map((i) => i.config.issuer);
      if (step.store && !storeObserved) {
        storeObserved = true;
        await this.observeStore(env, seen);
      }
      const reached = (step.after ?? []).every((name) => passed.has(name));
      const applies = reached && (!step.when || step.when(ctx));
      let ok = false;
      if (applies) {
        const unverified =
          step.verifies === 'signature'
            ? false
            : step.verifies === 'claims'
              ? signatureDoubt
              : step.stage === 'token' || !ctx.cached
                ? verificationDoubt
                : false;
        const counts = step.stage !== 'token' || !ctx.cached;
        const run = () => steps.run(step, ctx, env, { counts, unverified });
        ok = await (this.spans
          ? this.spans.diagnosed(step, run, () => steps.error(step.name)?.reason)
          : run());
        if (ok) passed.add(step.name);
        else if (step.stopsDiagnosis) return ctx;
        if (step.name === 'keys') await this.observeKeys(ctx, seen);
      }
      // A step of another format (its `when` says no) casts no doubt: it was not this token's.
      const otherFormat = step.when !== undefined && !step.when(ctx);
      if (step.verifies && !ok && !otherFormat) {
        verificationDoubt = true;
        if (step.verifies === 'signature') signatureDoubt = true;
      }
      if (step.verifies) seen.keyState = ctx.issuer?.keys.state();
    }
    await this.observeUser(ctx, env, seen);
    return ctx;
  }

  private async observeKeys(ctx: PipelineContext, seen: Observations): Promise<void> {
    const issuerVerifier = ctx.issuer;
    const decoded = ctx.decoded;
    if (!issuerVerifier || !decoded) return;
    const kid = decoded.header.kid;
    const alg = String(decoded.header.alg);
    try {
      if (typeof kid === 'string' || kid === undefined) {
        const all = await issuerVerifier.keys.keysFor(kid);
        seen.availableKeyIds = all.map((k) => k.kid ?? '(no kid)');
        seen.candidateKeyIds = selectKeys(all, alg, kid).map((k) => k.kid ?? '(no kid)');
      }
    } catch (error) {
      seen.keysError = messageOf(error);
    }
  }

  private async observeStore(env: PeekEnv, seen: Observations): Promise<void> {
    const started = performance.now();
    try {
      await this.users.ping();
      seen.store = { up: true, latencyMs: performance.now() - started };
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      env.storeDown = true;
      seen.store = { up: false, latencyMs: performance.now() - started, reason: error.reason };
    }
  }

  /** What the store, the caches and the SCIM log hold for the report's key. */
  private async observeUser(
    ctx: PipelineContext | undefined,
    env: PeekEnv,
    seen: Observations,
  ): Promise<void> {
    seen.coherent = this.caches.coherent;
    seen.cacheSizes = this.caches.sizes();
    const key = ctx?.token?.key ?? ctx?.key;
    if (!ctx || !key) return;
    const userKey = userCacheKey(key);
    seen.cachedUser = env.caches.getUser(userKey);
    seen.knownMissing = env.caches.isKnownMissing(userKey);
    let storeUser: UserRecord | null | undefined;
    try {
      storeUser = await env.findUser(key, userKey);
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      storeUser = undefined;
    }
    seen.storeUser = storeUser;
    if (storeUser) {
      // The steps' own rules decide what the report says of the store's user.
      seen.storeUserWrongKind = refusal(() => checkKind({ key }, storeUser)) !== undefined;
      seen.storeUserBarred = refusal(() => assertUsable(storeUser))?.reason;
      seen.scim = await this.scimHistory(storeUser, new Date(env.nowMs()));
      return;
    }
    const claimsSeen = ctx.decoded?.payload ?? {};
    if (storeUser === null) {
      const email = typeof claimsSeen.email === 'string' ? claimsSeen.email : undefined;
      try {
        seen.nearMisses = await this.nearMisses.find({ key, email });
      } catch (error) {
        seen.nearMissError = messageOf(error);
      }
    }
    const policy = issuerPolicy(env, key.issuer);
    if (policy && jitAllowed(policy, key.kind)) {
      try {
        seen.jitInput = provisioningInput(key, claimsSeen, policy.jit);
      } catch (error) {
        if (!(error instanceof ResolutionError)) throw error;
        seen.jitInputError = error;
      }
    }
  }

  /** "provisioned by SCIM client X at T" (and "deactivated/deleted by ... at T") for SCIM users. */
  private async scimHistory(user: UserRecord, now: Date): Promise<Observations['scim']> {
    if (user.provenance !== 'scim') return undefined;
    let p: Awaited<ReturnType<ScimProvenanceRepository['find']>>;
    try {
      p = await this.scim.find(user.id);
    } catch {
      return undefined;
    }
    if (!p) return undefined;
    const at = (d: Date) => humanTime(d, now);
    const parts = [`provisioned by SCIM client ${p.clientId} at ${at(p.provisionedAt)}`];
    if (p.deletedAt) parts.push(`deleted by SCIM client ${p.clientId} at ${at(p.deletedAt)}`);
    else if (p.deactivatedAt && user.status === 'disabled')
      parts.push(`deactivated by SCIM client ${p.clientId} at ${at(p.deactivatedAt)}`);
    return {
      text: parts.join('; '),
      details: {
        client: p.clientId,
        provisionedAt: p.provisionedAt.toISOString(),
        deactivatedAt: p.deactivatedAt?.toISOString() ?? null,
        deletedAt: p.deletedAt?.toISOString() ?? null,
      },
    };
  }
}

/** The refusal a rule makes, or undefined when it passes; anything else is a bug and propagates. */
function refusal(rule: () => void): ResolutionError | undefined {
  try {
    rule();
    return undefined;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return error;
  }
}

/** The checklist and the verdict, written from the steps' outcomes. */
function report(input: ReportInput): Diagnosis {
  const out = new Report();
  writeFormat(out, input);
  writeDecrypt(out, input);
  writeDecode(out, input);
  writeIssuer(out, input);
  writeKey(out, input);
  writeSignature(out, input);
  writeIntrospection(out, input);
  writeTime(out, input);
  writeClaims(out, input);
  writeSubjectAndTenant(out, input);
  writeBinding(out, input);
  // Past the issuer, every later step has something to say, if only why it was not reached.
  if (input.ctx?.issuer) {
    writeStore(out, input);
    writeUser(out, input);
    writeJit(out, input);
    writeCache(out, input);
    writeRevocation(out, input);
  }
  const reason = input.steps.verdict ?? 'OK';
  const source = input.ctx?.source;
  const verdict: DiagnosisVerdict =
    reason === 'OK'
      ? { reason, outcome: 'resolved', httpStatus: 200, title: 'Resolved', source }
      : {
          reason,
          outcome: presentReason(reason).outcome,
          httpStatus: presentReason(reason).httpStatus,
          title: presentReason(reason).title,
        };
  out.set(
    'verdict',
    reason === 'OK' ? 'pass' : 'fail',
    reason === 'OK'
      ? `ResolveSubject would resolve this token now (${source?.toLowerCase() ?? 'store'})`
      : `ResolveSubject would refuse this token now with ${reason}: ${verdict.title}`,
    { ...verdict },
  );
  return { diagnosedAt: input.now, verdict, steps: out.steps() };
}

/**
 * The token and the Authorization header a diagnosis extracts from: a `scheme` sent beside the
 * token makes the two the header `scheme token` (whatever the scheme: extraction refuses one it
 * does not know, as it would the header's), so a DPoP-bound token is diagnosed as it was sent.
 */
function credentialOf(request: DiagnoseRequest): { token: unknown; authorization?: string } {
  const { token, scheme } = request;
  if (scheme !== undefined && typeof scheme !== 'string')
    throw new ResolutionError('TOKEN_MALFORMED', 'scheme must be a string (Bearer or DPoP)');
  if (scheme === undefined || scheme === '' || typeof token !== 'string')
    return { token, authorization: request.authorization };
  return { token: undefined, authorization: `${scheme} ${token}` };
}
