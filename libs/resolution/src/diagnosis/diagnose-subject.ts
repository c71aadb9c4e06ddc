import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RESOLVER_CONFIG, type IssuerConfig, type ResolverConfig } from '@resolver/config';
import { Clock } from '@resolver/observability';
import {
  type LookupKey,
  type NearMiss,
  NearMissRepository,
  normaliseSubject,
  provisioningInput,
  RevocationRepository,
  ScimProvenanceRepository,
  type UserRecord,
  UserRepository,
} from '@resolver/identity';
import { isResolutionError, presentReason, type ReasonCode } from '@resolver/reasons';
import {
  type DecodedToken,
  type IssuerVerifier,
  selectKeys,
  TokenVerifier,
  type VerifiedToken,
} from '@resolver/tokens';
import { extractToken } from '../bearer';
import { type CachedToken, SubjectCaches, userCacheKey } from '../cache/subject-caches';
import { isServiceToken, lookupKeyFor } from '../subject-key';
import { assertUsable } from '../user-status';
import {
  type Diagnosis,
  DIAGNOSIS_STEPS,
  type DiagnosisStatus,
  type DiagnosisStep,
  type DiagnosisStepName,
  type DiagnosisVerdict,
  STEP_TITLES,
} from './diagnosis';
import { humanTime, numericDate, relativeTime } from './human-time';

/** Input of a diagnosis: the token to explain (a compact JWT), as received. */
export interface DiagnoseRequest {
  readonly token?: unknown;
}

/** Where in the verifier a failure happened (jose checks presence, iss, sub, aud, then times). */
type VerifyStage = 'decode' | 'key' | 'signature' | 'claims' | 'time' | 'subject';

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat']);

/**
 * The DiagnoseSubject use case: runs the whole ResolveSubject checklist on one token and says,
 * step by step, what it found and what to fix. It reuses the resolution pieces (extract, decode,
 * select, verify, lookup key, repositories, JIT input) and classifies their ResolutionErrors; it
 * never duplicates their decisions.
 *
 * Strictly without side effects: no JIT (only `provisioningInput`, which is pure), no cache
 * writes or recency/hit counting (`peek`), no resolution metrics, no writes to the store. The one
 * thing it may cause, like any resolution would, is a fetch of the issuer's JWKS.
 *
 * The verdict is the reason ResolveSubject would return now — including when its answer would
 * come from a cache that disagrees with the store (reported as stale in the cache step).
 */
@Injectable()
export class DiagnoseSubject {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
    private readonly revocations: RevocationRepository,
    private readonly nearMisses: NearMissRepository,
    private readonly caches: SubjectCaches,
    private readonly clock: Clock,
    private readonly scim: ScimProvenanceRepository,
  ) {}

  async diagnose(request: DiagnoseRequest): Promise<Diagnosis> {
    const deps: RunDeps = {
      users: this.users,
      revocations: this.revocations,
      nearMisses: this.nearMisses,
      caches: this.caches,
      scim: this.scim,
    };
    return new Run(this.config, this.verifier, deps, this.clock.now()).run(request);
  }
}

interface RunDeps {
  readonly users: UserRepository;
  readonly revocations: RevocationRepository;
  readonly nearMisses: NearMissRepository;
  readonly caches: SubjectCaches;
  readonly scim: ScimProvenanceRepository;
}

/** One diagnosis: collects steps (in any order) and the verdict (in pipeline order). */
class Run {
  private readonly steps = new Map<DiagnosisStepName, DiagnosisStep>();
  private verdict: ReasonCode | undefined;
  private source: DiagnosisVerdict['source'];
  private readonly nowMs: number;

  constructor(
    private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly deps: RunDeps,
    private readonly now: Date,
  ) {
    this.nowMs = now.getTime();
  }

  private set(
    step: DiagnosisStepName,
    status: DiagnosisStatus,
    finding: string,
    details: Record<string, unknown> = {},
    extra: { fix?: string; unverified?: boolean } = {},
  ): void {
    this.steps.set(step, {
      step,
      title: STEP_TITLES[step],
      status,
      finding,
      ...(extra.fix ? { fix: extra.fix } : {}),
      ...(extra.unverified ? { unverified: true } : {}),
      details,
    });
  }

  /** The pipeline's first failure wins, as in ResolveSubject. */
  private refuse(reason: ReasonCode): void {
    this.verdict ??= reason;
  }

  async run(request: DiagnoseRequest): Promise<Diagnosis> {
    await this.check(request);
    return this.finish();
  }

  private finish(): Diagnosis {
    const reason = this.verdict ?? 'OK';
    const verdict: DiagnosisVerdict =
      reason === 'OK'
        ? { reason, outcome: 'resolved', httpStatus: 200, title: 'Resolved', source: this.source }
        : {
            reason,
            outcome: presentReason(reason).outcome,
            httpStatus: presentReason(reason).httpStatus,
            title: presentReason(reason).title,
          };
    this.set(
      'verdict',
      reason === 'OK' ? 'pass' : 'fail',
      reason === 'OK'
        ? `ResolveSubject would resolve this token now (${this.source?.toLowerCase() ?? 'store'})`
        : `ResolveSubject would refuse this token now with ${reason}: ${verdict.title}`,
      { ...verdict },
    );
    const steps = DIAGNOSIS_STEPS.map(
      (name) =>
        this.steps.get(name) ?? {
          step: name,
          title: STEP_TITLES[name],
          status: 'skip' as const,
          finding: 'not reached: an earlier step failed',
          details: {},
        },
    );
    return { diagnosedAt: this.now, verdict, steps };
  }

  private async check(request: DiagnoseRequest): Promise<void> {
    const { caches } = this.deps;
    // 1. Extract and decode.
    let raw: string;
    let decoded: DecodedToken;
    try {
      raw = extractToken(request.token, undefined, this.config.limits.maxTokenBytes);
      decoded = this.verifier.decode(raw);
    } catch (error) {
      const reason = reasonOf(error);
      this.refuse(reason);
      this.set(
        'decode',
        'fail',
        `${reason}: ${messageOf(error)}`,
        { reason },
        {
          fix:
            reason === 'TOKEN_MISSING'
              ? 'pass the compact JWT (header.payload.signature) in the "token" field'
              : reason === 'TOKEN_TOO_LARGE'
                ? `tokens are limited to ${this.config.limits.maxTokenBytes} bytes (limits.maxTokenBytes); ask the IdP for fewer claims`
                : 'pass a JWS compact JWT: three base64url segments with JSON header and payload (JWE is not accepted)',
        },
      );
      return;
    }
    this.set(
      'decode',
      'pass',
      `${decoded.sizeBytes} bytes, alg ${String(decoded.header.alg)}${decoded.header.kid !== undefined ? `, kid ${JSON.stringify(decoded.header.kid)}` : ', no kid'}`,
      {
        header: decoded.header,
        payload: decoded.payload,
        times: this.times(decoded.payload),
        sizeBytes: decoded.sizeBytes,
        signatureLength: decoded.signatureLength,
      },
    );

    // What the verified-token cache holds: ResolveSubject answers from it without re-verifying.
    const hash = createHash('sha256').update(raw).digest('base64url');
    let cachedToken: CachedToken | undefined = caches.coherent
      ? caches.tokens.peek(hash, this.nowMs)
      : undefined;
    if (cachedToken?.expiresAtMs !== undefined && cachedToken.expiresAtMs <= this.nowMs)
      cachedToken = undefined;

    // 2. Issuer.
    let issuer: IssuerVerifier | undefined;
    try {
      issuer = this.verifier.select(decoded);
    } catch (error) {
      this.refuse(reasonOf(error));
      const iss = decoded.payload.iss;
      const configured = this.verifier.issuers().map((i) => i.config.issuer);
      const close = configured.find(
        (c) =>
          typeof iss === 'string' &&
          c.replace(/\/+$/, '').toLowerCase() === iss.replace(/\/+$/, '').toLowerCase(),
      );
      this.set(
        'issuer',
        'fail',
        iss === undefined
          ? 'the token has no "iss" claim'
          : `iss ${JSON.stringify(iss)} is not a configured issuer${close ? ` (${JSON.stringify(close)} is, and differs only by case or a trailing slash)` : ''}`,
        { iss, configured },
        {
          fix: close
            ? `issuers are compared byte for byte: set issuers[].issuer to exactly ${JSON.stringify(iss)} or make the IdP emit ${JSON.stringify(close)}`
            : `add the issuer to the configuration (issuers[].issuer: ${JSON.stringify(iss)}) or send the token to the resolver that trusts it`,
        },
      );
      return;
    }
    // 3–6. Key, signature, time claims, audience and required claims: the issuer's verifier.
    let verified: VerifiedToken | undefined;
    let stage: VerifyStage | undefined;
    let verifyError: unknown;
    try {
      verified = await issuer.verify(raw, decoded);
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      verifyError = error;
      stage = stageOf(error.reason, error.cause);
      // A cached token is answered without verification: the cache step reports the disagreement.
      if (!cachedToken) this.refuse(error.reason);
    }
    await this.keyStep(issuer, decoded, stage, verifyError);
    // The key source state after verification, which may have fetched the keys.
    const state = issuer.keys.state();
    const keyState = {
      source: state.kind,
      keyIds: state.keyIds,
      lastFetchAt: state.lastFetchAt && humanTime(state.lastFetchAt, this.now),
      lastError: state.lastError,
      degraded: state.degraded,
    };
    this.set(
      'issuer',
      state.degraded || state.lastError ? 'warn' : 'pass',
      `${issuer.config.issuer} (${issuer.config.origin}), keys from ${state.kind}` +
        (state.lastFetchAt ? `, fetched ${relativeTime(state.lastFetchAt, this.now)}` : '') +
        (state.degraded ? ', serving keys past their max age (IdP unreachable)' : '') +
        (state.lastError ? `, last fetch error: ${state.lastError}` : ''),
      { issuer: issuer.config.issuer, origin: issuer.config.origin, keys: keyState },
      state.degraded || state.lastError
        ? { fix: "check that the resolver can reach the issuer's JWKS / discovery URL" }
        : {},
    );

    this.signatureStep(verified, stage, verifyError);
    this.timeStep(issuer.config, decoded, verified, stage, verifyError);
    this.claimsStep(issuer.config, decoded, verified, stage, verifyError);

    // 8–9. Subject and tenant: from verified claims, or from unverified ones (flagged).
    const claims = verified?.claims ?? decoded.payload;
    const unverified = !verified;
    const key = this.subjectSteps(
      issuer.config,
      claims,
      unverified,
      stage,
      verifyError,
      !cachedToken,
    );
    const pipelineKey = cachedToken?.key ?? (verified ? key : undefined);

    // 10. Store reachability.
    const { users } = this.deps;
    let storeUp = true;
    const started = performance.now();
    try {
      await users.ping();
      this.set('store', 'pass', `reachable, ${(performance.now() - started).toFixed(1)} ms`, {
        latencyMs: Number((performance.now() - started).toFixed(1)),
      });
    } catch (error) {
      storeUp = false;
      this.set(
        'store',
        'fail',
        `unreachable after ${(performance.now() - started).toFixed(0)} ms: ${reasonOf(error)}`,
        { latencyMs: Math.round(performance.now() - started), reason: reasonOf(error) },
        {
          fix: 'check Postgres (DATABASE_URL, /health/ready, the pool and statement timeouts); resolutions answer 503 USER_STORE_UNAVAILABLE, never "not found", until it is back',
        },
      );
    }

    // 7. Revocation (jti now; tokens_valid_after once the user is known).
    const jtiRaw = cachedToken?.info.jti || verified?.jti || decoded.payload.jti;
    const jti = typeof jtiRaw === 'string' && jtiRaw !== '' ? jtiRaw : undefined;
    const issuerName = cachedToken?.issuer ?? issuer.config.issuer;
    let jtiRevoked: boolean | undefined;
    if (jti) {
      const inMemory = caches.isRevoked(issuerName, jti);
      if (inMemory !== undefined) jtiRevoked = inMemory;
      else if (storeUp) {
        try {
          jtiRevoked = await this.deps.revocations.isRevoked(issuerName, jti);
        } catch {
          jtiRevoked = undefined;
        }
      }
      if (pipelineKey) {
        if (jtiRevoked === undefined) this.refuse('USER_STORE_UNAVAILABLE');
        else if (jtiRevoked) this.refuse('TOKEN_REVOKED');
      }
    }

    // 11. User (the store's answer), near misses; what ResolveSubject would use (caches first).
    const lookupKey = pipelineKey ?? key;
    let storeUser: UserRecord | null | undefined;
    if (lookupKey && storeUp) {
      try {
        storeUser = await users.findByKey(lookupKey);
      } catch {
        storeUser = undefined;
      }
    }
    const cachedUser =
      lookupKey && caches.coherent
        ? caches.users.peek(userCacheKey(lookupKey), this.nowMs)
        : undefined;
    const knownMissing =
      !!lookupKey &&
      caches.coherent &&
      caches.negative.peek(userCacheKey(lookupKey), this.nowMs) !== undefined;

    let pipelineUser: UserRecord | null | undefined;
    if (pipelineKey) {
      this.source = cachedUser ? 'CACHE' : 'STORE';
      pipelineUser = cachedUser ?? (knownMissing ? null : storeUser);
      if (pipelineUser === undefined) this.refuse('USER_STORE_UNAVAILABLE');
    }

    const claimEmail = typeof claims.email === 'string' ? claims.email : undefined;
    const issuedAt = numericDate(claims.iat);
    if (!lookupKey) {
      this.set('user', 'skip', 'no lookup key: see the subject and tenant steps');
    } else if (storeUser === undefined) {
      this.set('user', 'skip', 'the user store could not be asked', {}, { unverified });
    } else if (storeUser) {
      await this.userFound(storeUser, lookupKey, issuedAt, unverified);
    } else {
      await this.userMissing(lookupKey, claimEmail, issuedAt, unverified);
    }

    // 12. JIT.
    const policy = this.verifier.issuer(lookupKey?.issuer ?? issuer.config.issuer)?.config;
    const jitAllowed =
      lookupKey?.kind === 'service'
        ? policy?.serviceAccounts?.jit === true
        : policy?.jit.enabled === true;
    const wouldProvision = await this.jitStep(
      lookupKey,
      claims,
      policy,
      jitAllowed,
      storeUser,
      unverified,
    );

    // 13. Caches.
    this.cacheStep(cachedToken, verifyError, lookupKey, cachedUser, knownMissing, storeUser);

    this.revocationStep(
      jti,
      jtiRevoked,
      (pipelineKey ? pipelineUser : storeUser) ?? undefined,
      cachedToken ? cachedToken.issuedAtMs : issuedAt?.getTime(),
      unverified,
    );

    // The rest of the verdict, in ResolveSubject's order.
    if (!pipelineKey || pipelineUser === undefined) return;
    const user = pipelineUser;
    if (!user) {
      if (!jitAllowed) return this.refuse('USER_NOT_FOUND');
      if (wouldProvision.reason) return this.refuse(wouldProvision.reason);
      this.source = 'PROVISIONED';
      return;
    }
    if (user.kind !== pipelineKey.kind) return this.refuse('USER_NOT_FOUND');
    const iatMs = cachedToken ? cachedToken.issuedAtMs : verified?.issuedAt?.getTime();
    if (user.tokensValidAfter && (iatMs === undefined || iatMs < user.tokensValidAfter.getTime()))
      return this.refuse('TOKEN_REVOKED');
    try {
      assertUsable(user);
    } catch (error) {
      this.refuse(reasonOf(error));
    }
  }

  // ---- steps ------------------------------------------------------------------------------

  private times(payload: Readonly<Record<string, unknown>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const claim of ['iat', 'nbf', 'exp', 'auth_time']) {
      const value = payload[claim];
      const at = numericDate(value);
      if (at) out[claim] = humanTime(at, this.now);
      else if (typeof value === 'number')
        out[claim] = `${value} (not a date: outside years 1-9999)`;
    }
    return out;
  }

  private async keyStep(
    issuer: IssuerVerifier,
    decoded: DecodedToken,
    stage: VerifyStage | undefined,
    error: unknown,
  ): Promise<void> {
    const alg = String(decoded.header.alg);
    const kid = decoded.header.kid;
    const allowed = [...issuer.config.algorithms];
    const details: Record<string, unknown> = { alg, kid, allowedAlgorithms: allowed };
    const reason = isResolutionError(error) ? error.reason : undefined;
    if (reason === 'ALGORITHM_NOT_ALLOWED') {
      this.set(
        'key',
        'fail',
        `alg ${alg} is not allowed for this issuer (allowed: ${allowed.join(', ')})`,
        details,
        {
          fix: `have the IdP sign with one of ${allowed.join(', ')}, or add ${alg} to issuers[].algorithms if it is really used ("none" never is)`,
        },
      );
      return;
    }
    if (reason === 'TOKEN_MALFORMED' && stage === 'key') {
      this.set('key', 'fail', messageOf(error), details, {
        fix: 'the "kid" header must be a string of at most 256 characters',
      });
      return;
    }
    let keys: readonly { kid?: string }[] = [];
    try {
      if (typeof kid === 'string' || kid === undefined) {
        const all = await issuer.keys.keysFor(kid);
        keys = selectKeys(all, alg, kid);
        details.availableKeyIds = all.map((k) => k.kid ?? '(no kid)');
      }
    } catch (keysError) {
      details.keysError = messageOf(keysError);
    }
    details.candidateKeyIds = keys.map((k) => k.kid ?? '(no kid)');
    if (reason === 'KEYS_UNAVAILABLE') {
      this.set(
        'key',
        'fail',
        `the issuer's keys could not be fetched: ${messageOf(error)}`,
        details,
        {
          fix: "make the issuer's JWKS / discovery URL reachable from the resolver (network, DNS, TLS); last good keys are kept once fetched",
        },
      );
      return;
    }
    if (reason === 'SIGNING_KEY_NOT_FOUND') {
      const available = (details.availableKeyIds as string[] | undefined) ?? [];
      this.set(
        'key',
        'fail',
        `no trusted ${alg} key${typeof kid === 'string' ? ` with kid ${JSON.stringify(kid)}` : ''}; the issuer publishes ${available.length ? available.join(', ') : 'no keys'}`,
        details,
        {
          fix: `the token was signed by a key this issuer does not publish: check that the token comes from this IdP environment, or that the IdP has published its new key (the JWKS is refetched at most once per ${issuer.config.jwks.cooldownMs / 1000}s for an unknown kid)`,
        },
      );
      return;
    }
    const matched = keys[0]?.kid ?? (keys.length ? '(no kid)' : undefined);
    this.set(
      'key',
      'pass',
      `alg ${alg} allowed; ${matched ? `key ${matched} matches` : 'candidate keys found'}`,
      { ...details, matchedKeyId: matched },
    );
  }

  private signatureStep(
    verified: VerifiedToken | undefined,
    stage: VerifyStage | undefined,
    error: unknown,
  ): void {
    if (verified || stage === 'time' || stage === 'claims' || stage === 'subject') {
      this.set('signature', 'pass', 'the signature verifies with a trusted key');
    } else if (stage === 'signature') {
      this.set(
        'signature',
        'fail',
        messageOf(error),
        {},
        {
          fix: 'the token was altered or signed with another key of the same id: get a fresh token from the IdP; check for truncation in transit',
        },
      );
    }
  }

  private timeStep(
    policy: IssuerConfig,
    decoded: DecodedToken,
    verified: VerifiedToken | undefined,
    stage: VerifyStage | undefined,
    error: unknown,
  ): void {
    const tolerance = policy.clockToleranceSeconds;
    const details = { ...this.times(decoded.payload), clockToleranceSeconds: tolerance };
    const exp = numericDate(decoded.payload.exp);
    const summary = exp
      ? `exp ${relativeTime(exp, this.now)}, tolerance ${tolerance}s`
      : `no exp, tolerance ${tolerance}s`;
    if (verified) {
      this.set('time', 'pass', summary, details);
      return;
    }
    if (stage === 'time') {
      const reason = (error as { reason: ReasonCode }).reason;
      this.set('time', 'fail', `${reason}: ${messageOf(error)} (${summary})`, details, {
        fix:
          reason === 'TOKEN_EXPIRED'
            ? 'get a new token (refresh it); if tokens expire while in flight, shorten the path or raise clockToleranceSeconds slightly'
            : reason === 'TOKEN_NOT_YET_VALID'
              ? "check the clocks: the IdP's and the resolver's (NTP); clockToleranceSeconds absorbs small skew"
              : 'time claims must be NumericDate numbers; required ones must be present',
      });
      return;
    }
    // Not reached by the verifier: say what the values will do, informational only.
    const nbf = numericDate(decoded.payload.nbf);
    const expired = exp && exp.getTime() <= this.nowMs - tolerance * 1000;
    const early = nbf && nbf.getTime() > this.nowMs + tolerance * 1000;
    if (expired || early)
      this.set(
        'time',
        'warn',
        `not checked yet (the verifier stopped earlier), but ${expired ? 'exp has passed' : 'nbf is in the future'}: ${summary}`,
        details,
        {
          fix: 'once the earlier failure is fixed this token will still be refused: get a new token',
          unverified: true,
        },
      );
    else
      this.set('time', 'skip', `not checked (the verifier stopped earlier): ${summary}`, details, {
        unverified: true,
      });
  }

  private claimsStep(
    policy: IssuerConfig,
    decoded: DecodedToken,
    verified: VerifiedToken | undefined,
    stage: VerifyStage | undefined,
    error: unknown,
  ): void {
    const aud = decoded.payload.aud;
    const details = {
      aud,
      acceptedAudiences: policy.audiences,
      requiredClaims: policy.requiredClaims,
      typ: decoded.header.typ,
    };
    if (verified || stage === 'time') {
      this.set(
        'claims',
        'pass',
        `aud ${JSON.stringify(aud)} accepted; required claims ${policy.requiredClaims.join(', ') || '(none)'} present; typ ${JSON.stringify(decoded.header.typ ?? null)}`,
        details,
      );
      return;
    }
    if (stage === 'claims') {
      const reason = (error as { reason: ReasonCode }).reason;
      this.set('claims', 'fail', `${reason}: ${messageOf(error)}`, details, {
        fix:
          reason === 'AUDIENCE_MISMATCH'
            ? `the token is for ${JSON.stringify(aud)}, this resolver accepts ${policy.audiences.join(', ')}: request the token for an accepted audience (scope/resource at the IdP), or add the audience to issuers[].audiences`
            : `the token must carry ${policy.requiredClaims.join(', ')} (issuers[].requiredClaims) with valid values`,
      });
      return;
    }
    this.set('claims', 'skip', 'not checked (the verifier stopped earlier)', details, {
      unverified: true,
    });
  }

  /** Subject and tenant steps; returns the lookup key when one can be built. */
  private subjectSteps(
    policy: IssuerConfig,
    claims: Readonly<Record<string, unknown>>,
    unverified: boolean,
    stage: VerifyStage | undefined,
    verifyError: unknown,
    counts: boolean,
  ): LookupKey | undefined {
    const service = policy.serviceAccounts && isServiceToken(claims, policy.serviceAccounts);
    const claim = service ? policy.serviceAccounts.clientIdClaim : policy.subject.claim;
    const raw = claims[claim];
    const subjectDetails: Record<string, unknown> = {
      claim,
      present: raw !== undefined,
      type: raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw,
      raw,
      kind: service ? 'service' : 'user',
      normalize: policy.subject.normalize,
      pattern: policy.subject.pattern?.source,
      maxLength: policy.subject.maxLength,
    };
    const label = unverified ? ' (from UNVERIFIED claims)' : '';
    // jose's required-claim check stops a missing `sub` before the mapper sees it.
    if (stage === 'subject') {
      this.set(
        'subject',
        'fail',
        `${(verifyError as { reason: string }).reason}: claim "${claim}" is absent`,
        subjectDetails,
        {
          fix: `the IdP must put the user's identifier in "${claim}" (or set issuers[].subject.claim to the claim it does use, e.g. oid, uid, email)`,
        },
      );
      return undefined;
    }
    let key: LookupKey;
    try {
      key = lookupKeyFor({
        issuer: policy,
        header: {},
        claims,
        subject: claims[policy.subject.claim],
        audience: [],
        scopes: [],
      });
    } catch (error) {
      const reason = reasonOf(error);
      if (counts && !unverified) this.refuse(reason);
      if (reason === 'TENANT_MISSING' || reason === 'CLAIM_INVALID') {
        let normalised: string | undefined;
        try {
          normalised = normaliseSubject(
            raw,
            service
              ? { ...policy.subject, claim, lookup: 'external', pattern: undefined }
              : policy.subject,
          );
        } catch {
          normalised = undefined;
        }
        this.set(
          'subject',
          'pass',
          `${claim} = ${JSON.stringify(raw)} -> ${JSON.stringify(normalised)}${label}`,
          { ...subjectDetails, normalised },
          { unverified },
        );
        this.set(
          'tenant',
          'fail',
          `${reason}: ${messageOf(error)}${label}`,
          {
            tenantClaim: policy.tenant?.claim,
            value: policy.tenant ? claims[policy.tenant.claim] : undefined,
          },
          {
            unverified,
            fix:
              reason === 'TENANT_MISSING'
                ? `the token must carry the tenant claim "${policy.tenant?.claim}" (configure the IdP to emit it), or set issuers[].tenant.required: false if this issuer serves one tenant`
                : `the tenant claim "${policy.tenant?.claim}" must be a canonical string of at most 255 characters: no whitespace at either end, no control, invisible or bidi characters, in NFC (the resolver refuses rather than rewrites it)`,
          },
        );
        return undefined;
      }
      this.set('subject', 'fail', `${reason}: ${messageOf(error)}${label}`, subjectDetails, {
        unverified,
        fix:
          reason === 'SUBJECT_MISSING'
            ? `the IdP must put a non-blank user identifier in "${claim}" (or set issuers[].subject.claim to the claim it does use)`
            : `the subject must be a canonical string (no whitespace at either end, no control, invisible or bidi characters, in NFC: the resolver refuses rather than rewrites it, so fix the IdP attribute) within ${policy.subject.maxLength} characters${policy.subject.pattern ? ` matching ${policy.subject.pattern.source}` : ''}${policy.subject.lookup === 'id' ? ', a UUID (lookup: id)' : ''}${policy.subject.lookup === 'email' ? ', an email address (lookup: email)' : ''}`,
      });
      return undefined;
    }
    this.set(
      'subject',
      'pass',
      `${claim} = ${JSON.stringify(raw)} -> ${JSON.stringify(key.subject)}${raw === key.subject ? '' : ' (normalised)'}${label}`,
      { ...subjectDetails, normalised: key.subject },
      { unverified },
    );
    const column =
      key.strategy === 'external'
        ? 'external_identities (issuer, tenant, subject)'
        : key.strategy === 'id'
          ? 'users.id'
          : key.strategy === 'email'
            ? 'lower(users.email)'
            : 'users.username';
    this.set(
      'tenant',
      'pass',
      `${policy.tenant ? `tenant ${JSON.stringify(key.tenant)} from "${policy.tenant.claim}"` : 'no tenant claim configured (tenant "")'}; lookup ${key.strategy} by ${column}${label}`,
      { ...key, column, tenantClaim: policy.tenant?.claim ?? null },
      { unverified },
    );
    return key;
  }

  private async userFound(
    user: UserRecord,
    key: LookupKey,
    issuedAt: Date | undefined,
    unverified: boolean,
  ): Promise<void> {
    const scim = await this.scimHistory(user);
    const details = { user: summary(user, this.now), ...(scim ? { scim: scim.details } : {}) };
    let barred: ReasonCode | undefined;
    try {
      assertUsable(user);
    } catch (error) {
      barred = reasonOf(error);
    }
    if (user.kind !== key.kind) {
      this.set(
        'user',
        'fail',
        `the subject maps to a ${user.kind} (${user.id}), the token is a ${key.kind} token`,
        details,
        {
          unverified,
          fix: `link this ${key.kind === 'service' ? 'client id' : 'subject'} to a ${key.kind} principal, or fix the issuer's serviceAccounts rule`,
        },
      );
      return;
    }
    if (barred) {
      const fixes: Partial<Record<ReasonCode, string>> = {
        USER_DELETED: `user ${user.id} was deleted ${user.deletedAt ? relativeTime(user.deletedAt, this.now) : ''}: restore it (cli users restore ${user.id}) if that was a mistake`,
        USER_DISABLED: `user ${user.id} is disabled: enable it (cli users enable ${user.id}) if access should be allowed`,
        USER_LOCKED: `user ${user.id} is locked: unlock it (cli users unlock ${user.id}) once the reason is resolved`,
      };
      this.set(
        'user',
        'fail',
        `${barred}: found ${user.id}${user.email ? ` <${user.email}>` : ''}, status ${user.status}${user.deletedAt ? `, deleted ${relativeTime(user.deletedAt, this.now)}` : ''}${scim ? `; ${scim.text}` : ''}`,
        details,
        { unverified, fix: fixes[barred] },
      );
      return;
    }
    const createdAfter = issuedAt && user.createdAt.getTime() > issuedAt.getTime();
    this.set(
      'user',
      'pass',
      `found ${user.id}${user.email ? ` <${user.email}>` : ''}, ${user.status}, created ${relativeTime(user.createdAt, this.now)}${createdAfter ? ' (after the token was issued)' : ''}${scim ? `; ${scim.text}` : ''}`,
      details,
      { unverified },
    );
  }

  /** What to do about a user nobody created: the SCIM client that should have, if one is configured. */
  private neverSynced(key: LookupKey): string {
    const client = this.config.scim.clients.find(
      (c) => c.issuer === key.issuer && c.tenant === key.tenant,
    );
    if (client && key.kind === 'user')
      return `the user was never synced: SCIM client ${client.id} provisions this issuer and tenant but has not pushed a user whose ${client.subjectAttribute} is ${JSON.stringify(key.subject)}; check that the user is assigned to the app in the IdP and the IdP's provisioning log`;
    return `the user was never synced: create it and link it (cli users create --email … --link ${key.issuer}=${key.subject}${key.tenant ? ` --tenant ${key.tenant}` : ''}), or enable jit for this issuer`;
  }

  /** "provisioned by SCIM client X at T" (and "deactivated/deleted by ... at T") for SCIM users. */
  private async scimHistory(
    user: UserRecord,
  ): Promise<{ text: string; details: Record<string, unknown> } | undefined> {
    if (user.provenance !== 'scim') return undefined;
    let p: Awaited<ReturnType<ScimProvenanceRepository['find']>>;
    try {
      p = await this.deps.scim.find(user.id);
    } catch {
      return undefined;
    }
    if (!p) return undefined;
    const at = (d: Date) => humanTime(d, this.now);
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

  private async userMissing(
    key: LookupKey,
    email: string | undefined,
    issuedAt: Date | undefined,
    unverified: boolean,
  ): Promise<void> {
    let misses: NearMiss[] = [];
    let nearMissError: string | undefined;
    try {
      misses = await this.deps.nearMisses.find({ key, email });
    } catch (error) {
      nearMissError = messageOf(error);
    }
    const described = misses.map((m) => this.describeMiss(m, key, issuedAt));
    const first = described[0];
    this.set(
      'user',
      'fail',
      `no ${key.kind} for ${key.strategy} ${JSON.stringify(key.subject)}${key.tenant ? ` in tenant ${JSON.stringify(key.tenant)}` : ''}` +
        (described.length
          ? `; near misses: ${described.map((d) => d.text).join('; ')}`
          : '; no near misses (not a case, issuer, tenant, column, deletion or email mix-up)'),
      {
        nearMisses: described.map((d) => ({
          kind: d.kind,
          finding: d.text,
          fix: d.fix,
          user: d.user,
        })),
        ...(nearMissError ? { nearMissError } : {}),
      },
      {
        unverified,
        fix: first?.fix ?? this.neverSynced(key),
      },
    );
  }

  private describeMiss(m: NearMiss, key: LookupKey, issuedAt: Date | undefined) {
    const u = m.user;
    const who = `${u.id}${u.email ? ` <${u.email}>` : ''}`;
    const after =
      issuedAt && u.createdAt.getTime() > issuedAt.getTime()
        ? ` (created ${relativeTime(u.createdAt, this.now)}, after the token was issued)`
        : '';
    const deleted = u.deletedAt ? ' (soft-deleted)' : '';
    const link = (i = m.identity) =>
      i ? `${i.issuer} / tenant ${JSON.stringify(i.tenant)} / ${JSON.stringify(i.subject)}` : '';
    let text: string;
    let fix: string;
    switch (m.kind) {
      case 'case':
        text = `${who} is linked as ${JSON.stringify(m.identity?.subject ?? u.username)}, which differs only in letter case`;
        fix = `subjects are compared exactly: fix the stored subject (identities unlink/link ${u.id}) to ${JSON.stringify(key.subject)}, or set issuers[].subject.normalize.lowercase: true and store subjects lowercase`;
        break;
      case 'issuer':
        text = `${who} has this subject under another issuer: ${link()}`;
        fix = `the user is linked to ${m.identity?.issuer}, not ${key.issuer}: link it to this issuer too (cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject}) if both IdPs name the same person`;
        break;
      case 'tenant':
        text = `${who} has this subject in tenant ${JSON.stringify(m.identity?.tenant ?? u.tenant)}, the token says ${JSON.stringify(key.tenant)}`;
        fix = `tenant mismatch: the token's tenant claim is ${JSON.stringify(key.tenant)} but the user lives in ${JSON.stringify(m.identity?.tenant ?? u.tenant)}; fix the tenant the IdP emits, or link the user in tenant ${JSON.stringify(key.tenant)}`;
        break;
      case 'column':
        text = `${who} has ${m.column} = ${JSON.stringify(key.subject)}, but this issuer looks up by ${key.strategy}`;
        fix = `wrong lookup column: the subject is the user's ${m.column}; set issuers[].subject.lookup: ${m.column}, or link the identity (cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject})`;
        break;
      case 'deleted':
        text = `${who}${deleted} has the token's email${u.deletedAt ? `, deleted ${relativeTime(u.deletedAt, this.now)}` : ''}`;
        fix = `a matching user was deleted: restore it (cli users restore ${u.id}) and link it, if that deletion was a mistake`;
        break;
      case 'email':
        text = `${who} has the token's email but no link to ${key.issuer} / ${JSON.stringify(key.subject)}`;
        fix = `link the identity: cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject}${key.tenant ? ` --tenant ${key.tenant}` : ''} (JIT never links by email)`;
        break;
    }
    return {
      kind: m.kind,
      text: text + after + (m.kind === 'deleted' ? '' : deleted),
      fix,
      user: summary(u, this.now),
    };
  }

  /**
   * Would JIT provision, and what would stop it: the claims (`provisioningInput`) and then the
   * store itself, in a rolled-back transaction, so a conflict (a live user already holding the
   * email or username) or any other refusal of the store is found exactly as provisioning would.
   */
  private async jitStep(
    key: LookupKey | undefined,
    claims: Readonly<Record<string, unknown>>,
    policy: IssuerConfig | undefined,
    allowed: boolean,
    storeUser: UserRecord | null | undefined,
    unverified: boolean,
  ): Promise<{ reason?: ReasonCode }> {
    if (!key || !policy) {
      this.set('jit', 'skip', 'no lookup key');
      return {};
    }
    const label = key.kind === 'service' ? 'serviceAccounts.jit' : 'jit.enabled';
    if (storeUser) {
      this.set('jit', 'skip', `not needed: the user exists (${label}: ${allowed})`, {
        enabled: allowed,
      });
      return {};
    }
    if (!allowed) {
      this.set(
        'jit',
        storeUser === null ? 'fail' : 'skip',
        `JIT is off for this issuer (${label}: false): a missing user is USER_NOT_FOUND`,
        { enabled: false },
        {
          unverified,
          fix:
            storeUser === null
              ? `create the user ahead of the first request (admin API / SCIM / import), or set issuers[].${key.kind === 'service' ? 'serviceAccounts.jit' : 'jit.enabled'}: true`
              : undefined,
        },
      );
      return {};
    }
    let storeAsked = false;
    try {
      const input = provisioningInput(key, claims, policy.jit);
      // Only asked when the user is known to be missing (a store that is down says nothing).
      storeAsked = storeUser === null;
      if (storeAsked) await this.deps.users.provision(key, input, { dryRun: true });
      this.set(
        'jit',
        storeUser === null ? 'pass' : 'skip',
        `would provision a ${input.kind}${input.email ? ` <${input.email}>` : ''}${input.username ? ` (${input.username})` : ''}, roles ${JSON.stringify(input.roles ?? [])} (not done: diagnosis has no side effects)`,
        { enabled: true, requiredClaims: policy.jit.requiredClaims, wouldCreate: input },
        { unverified },
      );
      return {};
    } catch (error) {
      const reason = reasonOf(error);
      this.set(
        'jit',
        'fail',
        `${reason}: ${messageOf(error)}`,
        { enabled: true, requiredClaims: policy.jit.requiredClaims },
        {
          unverified,
          fix: storeAsked
            ? `the store refuses this user: a live user in tenant ${JSON.stringify(key.tenant)} already holds its email or username (see the user step's near misses): link this identity to that user (cli identities link USER_ID --issuer ${key.issuer} --subject ${JSON.stringify(key.subject)}), or change the other user`
            : `the IdP must send the claims JIT needs (${policy.jit.requiredClaims.join(', ') || 'none'}, mapped by issuers[].jit.map), or create the user ahead of time`,
        },
      );
      return { reason };
    }
  }

  private cacheStep(
    cachedToken: CachedToken | undefined,
    verifyError: unknown,
    key: LookupKey | undefined,
    cachedUser: UserRecord | undefined,
    knownMissing: boolean,
    storeUser: UserRecord | null | undefined,
  ): void {
    const { caches } = this.deps;
    const sizes = caches.sizes();
    if (!caches.coherent) {
      this.set(
        'cache',
        'warn',
        'caches are bypassed: the LISTEN connection is down (every request goes to the store)',
        { coherent: false, sizes },
        {
          fix: 'check the listener connection to Postgres (/health/ready); caches come back by themselves when it reconnects',
        },
      );
      return;
    }
    const details: Record<string, unknown> = {
      coherent: true,
      sizes,
      token: cachedToken
        ? {
            cached: true,
            key: cachedToken.key,
            expiresAt: cachedToken.expiresAtMs
              ? humanTime(new Date(cachedToken.expiresAtMs), this.now)
              : undefined,
          }
        : { cached: false },
      user: key
        ? cachedUser
          ? { cached: true, user: summary(cachedUser, this.now) }
          : { cached: false }
        : undefined,
      negative: key ? { cached: knownMissing } : undefined,
    };
    const stale: string[] = [];
    if (cachedToken && isResolutionError(verifyError))
      stale.push(
        `the token cache still accepts this token, although verification now fails with ${verifyError.reason}`,
      );
    if (cachedUser && storeUser !== undefined) {
      const diffs = differences(cachedUser, storeUser);
      if (diffs.length) stale.push(`the user cache differs from the store: ${diffs.join(', ')}`);
    }
    if (knownMissing && storeUser)
      stale.push(`the negative cache says "no such user" but the store has ${storeUser.id}`);
    if (stale.length) {
      details.stale = stale;
      this.set('cache', 'fail', `stale: ${stale.join('; ')}`, details, {
        fix: 'flush the caches (cli flush, or POST /admin/v1/caches/flush), then find why the change was not announced: a write with triggers disabled (session_replication_role = replica) or a lost NOTIFY',
      });
      return;
    }
    const held = [
      cachedToken ? 'token' : undefined,
      cachedUser ? 'user' : undefined,
      knownMissing ? 'negative' : undefined,
    ].filter(Boolean);
    this.set(
      'cache',
      'pass',
      held.length
        ? `cached: ${held.join(', ')}; agrees with the store`
        : 'nothing cached for this token or key',
      details,
    );
  }

  private revocationStep(
    jti: string | undefined,
    jtiRevoked: boolean | undefined,
    user: UserRecord | undefined,
    iatMs: number | undefined,
    unverified: boolean,
  ): void {
    const tva = user?.tokensValidAfter ?? undefined;
    const details = {
      jti: jti ?? null,
      jtiRevoked: jtiRevoked ?? null,
      tokensValidAfter: tva ? humanTime(tva, this.now) : null,
      issuedAt: iatMs !== undefined ? humanTime(new Date(iatMs), this.now) : null,
    };
    if (jtiRevoked) {
      this.set('revocation', 'fail', `jti ${JSON.stringify(jti)} is on the deny-list`, details, {
        unverified,
        fix: 'the token was revoked on purpose: sign in again for a new token',
      });
      return;
    }
    if (tva && (iatMs === undefined || iatMs < tva.getTime())) {
      this.set(
        'revocation',
        'fail',
        `issued ${iatMs !== undefined ? relativeTime(new Date(iatMs), this.now) : '(no iat)'}, before the user signed out everywhere ${relativeTime(tva, this.now)}`,
        details,
        {
          unverified,
          fix: 'the user signed out everywhere after this token was issued: sign in again',
        },
      );
      return;
    }
    this.set(
      'revocation',
      jti && jtiRevoked === undefined ? 'warn' : 'pass',
      `${jti ? (jtiRevoked === undefined ? `jti ${JSON.stringify(jti)} could not be checked` : `jti ${JSON.stringify(jti)} not revoked`) : 'no jti'}; ${tva ? `tokens valid after ${relativeTime(tva, this.now)}, issued after that` : 'no sign-out-everywhere'}`,
      details,
      { unverified },
    );
  }
}

function reasonOf(error: unknown): ReasonCode {
  if (isResolutionError(error)) return error.reason;
  throw error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where a verifier failure belongs (jose: presence, iss, sub, aud, then iat/nbf/exp). */
function stageOf(reason: ReasonCode, cause: unknown): VerifyStage {
  const claim = (cause as { claim?: unknown } | undefined)?.claim;
  switch (reason) {
    case 'TOKEN_MALFORMED':
      return cause === undefined ? 'key' : 'signature';
    case 'ALGORITHM_NOT_ALLOWED':
    case 'SIGNING_KEY_NOT_FOUND':
    case 'KEYS_UNAVAILABLE':
      return 'key';
    case 'SIGNATURE_INVALID':
      return 'signature';
    case 'TOKEN_EXPIRED':
    case 'TOKEN_NOT_YET_VALID':
      return 'time';
    case 'SUBJECT_MISSING':
      return 'subject';
    case 'CLAIM_INVALID':
      if ((cause as { reason?: unknown } | undefined)?.reason === 'missing') return 'claims';
      return typeof claim === 'string' && TIME_CLAIMS.has(claim) ? 'time' : 'claims';
    case 'AUDIENCE_MISMATCH':
    case 'ISSUER_UNKNOWN':
    case 'TOKEN_REVOKED':
      return 'claims';
    // Not raised by the verifier; kept here so a new reason must be placed on purpose.
    case 'TOKEN_MISSING':
    case 'TOKEN_TOO_LARGE':
      return 'decode';
    case 'SUBJECT_MALFORMED':
    case 'TENANT_MISSING':
      return 'subject';
    case 'PROVISIONING_REJECTED':
    case 'USER_DELETED':
    case 'USER_DISABLED':
    case 'USER_LOCKED':
    case 'USER_NOT_FOUND':
    case 'USER_STORE_UNAVAILABLE':
      return 'claims';
  }
}

/** A user as the report shows it. */
function summary(u: UserRecord, now: Date) {
  return {
    id: u.id,
    tenant: u.tenant,
    kind: u.kind,
    email: u.email,
    username: u.username,
    status: u.status,
    deletedAt: u.deletedAt ? humanTime(u.deletedAt, now) : null,
    tokensValidAfter: u.tokensValidAfter ? humanTime(u.tokensValidAfter, now) : null,
    provenance: u.provenance,
    createdAt: humanTime(u.createdAt, now),
    updatedAt: humanTime(u.updatedAt, now),
  };
}

/** Fields that decide an answer, where the cached user and the store disagree. */
function differences(cached: UserRecord, store: UserRecord | null): string[] {
  if (!store) return [`user ${cached.id} is cached but the store no longer finds it`];
  const out: string[] = [];
  const t = (d: Date | null) => d?.toISOString() ?? null;
  if (cached.id !== store.id) out.push(`id ${cached.id} vs ${store.id}`);
  if (cached.status !== store.status)
    out.push(`status ${cached.status} (cache) vs ${store.status} (store)`);
  if (t(cached.deletedAt) !== t(store.deletedAt))
    out.push(`deleted_at ${t(cached.deletedAt)} (cache) vs ${t(store.deletedAt)} (store)`);
  if (t(cached.tokensValidAfter) !== t(store.tokensValidAfter))
    out.push(
      `tokens_valid_after ${t(cached.tokensValidAfter)} (cache) vs ${t(store.tokensValidAfter)} (store)`,
    );
  if (cached.kind !== store.kind) out.push(`kind ${cached.kind} vs ${store.kind}`);
  if (t(cached.updatedAt) !== t(store.updatedAt) && out.length === 0)
    out.push(`updated_at ${t(cached.updatedAt)} (cache) vs ${t(store.updatedAt)} (store)`);
  return out;
}
