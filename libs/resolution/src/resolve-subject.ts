import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { provisioningInput, type UserRecord, UserRepository } from '@resolver/identity';
import { ResolverLogger, ResolverMetrics, UNKNOWN_ISSUER } from '@resolver/observability';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { TokenVerifier, type VerifiedToken } from '@resolver/tokens';
import { extractToken } from './bearer';
import { deadlineExceeded, type Phase, withDeadline } from './deadline';
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
 */
@Injectable()
export class ResolveSubject {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
    private readonly metrics: ResolverMetrics,
    private readonly log: ResolverLogger,
  ) {}

  /** Resolves the caller behind a token, or throws a {@link ResolutionError}. */
  async resolve(request: ResolveRequest): Promise<Resolution> {
    const started = performance.now();
    const trace: Trace = { issuer: UNKNOWN_ISSUER, phase: 'request' };
    const requestId = request.requestId ?? randomUUID();
    const timeoutMs = this.config.lifecycle.requestTimeoutMs;
    try {
      // The deadline bounds the whole answer; who ran out of time decides the reason.
      const resolution = await withDeadline(this.run(request, trace), timeoutMs, () =>
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
      const seconds = (performance.now() - started) / 1000;
      if (!isResolutionError(error)) {
        this.metrics.internalErrors.labels(request.transport).inc();
        this.log.internalError({ requestId, transport: request.transport, error });
        throw error;
      }
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
      });
      throw error;
    }
  }

  private async run(request: ResolveRequest, trace: Trace): Promise<Resolution> {
    const raw = extractToken(
      request.token,
      request.authorization,
      this.config.limits.maxTokenBytes,
    );
    const decoded = this.verifier.decode(raw);
    const issuer = this.verifier.select(decoded);
    trace.issuer = issuer.config.issuer;
    trace.phase = 'keys';
    const token = await issuer.verify(raw, decoded);
    const key = lookupKeyFor(token);
    trace.subject = key.subject;
    trace.phase = 'store';

    let source: ResolutionSource = 'STORE';
    let user = await this.users.findByKey(key);
    if (!user) {
      const jit = token.issuer.jit;
      if (!jit.enabled)
        throw new ResolutionError('USER_NOT_FOUND', 'no user for this subject and JIT is off');
      user = await this.provision(token, key);
      source = 'PROVISIONED';
    }
    assertUsable(user);
    return { principal: toPrincipal(user), token: toTokenInfo(token, key.subject), source };
  }

  private async provision(
    token: VerifiedToken,
    key: ReturnType<typeof lookupKeyFor>,
  ): Promise<UserRecord> {
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

/** What the failure log line and the deadline need to know about a call in progress. */
interface Trace {
  issuer: string;
  phase: Phase;
  subject?: string;
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
