import { Inject, Injectable, Logger } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { provisioningInput, type UserRecord, UserRepository } from '@resolver/identity';
import { ResolverMetrics, UNKNOWN_ISSUER } from '@resolver/observability';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { TokenVerifier, type VerifiedToken } from '@resolver/tokens';
import { extractToken } from './bearer';
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
  private readonly logger = new Logger('Resolution');

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
    private readonly metrics: ResolverMetrics,
  ) {}

  /** Resolves the caller behind a token, or throws a {@link ResolutionError}. */
  async resolve(request: ResolveRequest): Promise<Resolution> {
    const started = performance.now();
    const trace = { issuer: UNKNOWN_ISSUER };
    try {
      const resolution = await this.run(request, trace);
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
        this.logger.error(
          `unexpected failure transport=${request.transport}: ${(error as Error)?.stack ?? error}`,
        );
        throw error;
      }
      this.metrics.record(request.transport, trace.issuer, error.reason, seconds);
      this.logFailure(request, trace.issuer, error, seconds);
      throw error;
    }
  }

  private async run(request: ResolveRequest, trace: { issuer: string }): Promise<Resolution> {
    const raw = extractToken(
      request.token,
      request.authorization,
      this.config.limits.maxTokenBytes,
    );
    const decoded = this.verifier.decode(raw);
    const issuer = this.verifier.select(decoded);
    trace.issuer = issuer.config.issuer;
    const token = await issuer.verify(raw, decoded);
    const key = lookupKeyFor(token);

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

  private logFailure(
    request: ResolveRequest,
    issuer: string,
    error: ResolutionError,
    seconds: number,
  ): void {
    // Never the token; the message is built by our own code and carries no token material.
    this.logger.warn(
      `resolution ${error.reason} transport=${request.transport} issuer=${issuer} latency_ms=${(seconds * 1000).toFixed(2)} detail=${JSON.stringify(error.message)}${formatContext(request.context)}`,
    );
  }
}

const MAX_CONTEXT_FIELDS = 8;
const MAX_CONTEXT_VALUE = 256;

/** ` key="value"` pairs for the log line: bounded in number and length, JSON-quoted. */
function formatContext(context: ResolveRequest['context']): string {
  if (!context) return '';
  return Object.entries(context)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
    .slice(0, MAX_CONTEXT_FIELDS)
    .map(
      ([k, v]) =>
        ` ${k.replace(/[^A-Za-z0-9_]/g, '_')}=${JSON.stringify(v.slice(0, MAX_CONTEXT_VALUE))}`,
    )
    .join('');
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
