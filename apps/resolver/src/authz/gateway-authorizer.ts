import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { presentReason, isResolutionError, type ReasonCode } from '@resolver/reasons';
import {
  type Principal,
  type Resolution,
  ResolveSubject,
  type ResolveRequest,
} from '@resolver/resolution';
import { challengeHeaders } from '../http/problem';
import { IdentityAssertionSigner } from './identity-assertion';
import { identityHeaderNames, identityHeaders } from './identity-headers';

/** DI token of the assertion signer (present only when `authz.assertion.enabled`). */
export const ASSERTION_SIGNER = Symbol('ASSERTION_SIGNER');

/** What a gateway is told: identity headers to set upstream, or a refusal to send the client. */
export type GatewayAnswer =
  | {
      readonly allowed: true;
      /** Headers the gateway sets on the upstream request (lowercase names). */
      readonly headers: Record<string, string>;
      /** Identity header names the gateway must remove: configured but not set in `headers`. */
      readonly remove: string[];
    }
  | {
      readonly allowed: false;
      readonly reason: ReasonCode;
      readonly status: 401 | 403 | 503;
      /** For the client: WWW-Authenticate / Retry-After, plus the reason header if configured. */
      readonly headers: Record<string, string>;
      /** Generic text: the end user never learns why. */
      readonly body: string;
    };

const GENERIC_BODY: Record<401 | 403 | 503, string> = {
  401: 'Unauthorized\n',
  403: 'Forbidden\n',
  503: 'Service Unavailable\n',
};

/**
 * The gateway-facing view of ResolveSubject, shared by forward-auth (HTTP) and ext_authz (gRPC).
 * The use case decides; this only translates its answer through the reason table into what a
 * gateway forwards. Unexpected errors propagate (the transport fails closed).
 */
@Injectable()
export class GatewayAuthorizer {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly resolver: ResolveSubject,
    @Optional() @Inject(ASSERTION_SIGNER) private readonly signer?: IdentityAssertionSigner,
  ) {}

  /**
   * The allowed answer without an assertion depends on the principal alone, and a cached user's
   * principal is one shared, never-mutated object (ResolveSubject builds it once per cached
   * record), so its answer is built once too. Principals read from the store are fresh each time
   * and are not remembered (a long-lived WeakMap keyed by short-lived objects fills old space).
   */
  private readonly answers = new WeakMap<Principal, GatewayAnswer & { allowed: true }>();

  private allowedFor(resolution: Resolution): GatewayAnswer & { allowed: true } {
    const cached =
      resolution.source === 'CACHE' ? this.answers.get(resolution.principal) : undefined;
    if (cached) return cached;
    const headers = identityHeaders(resolution, this.config.authz.headers);
    const answer = {
      allowed: true as const,
      headers,
      remove: this.identityHeaderNames.filter((name) => !(name in headers)),
    };
    if (resolution.source === 'CACHE') this.answers.set(resolution.principal, answer);
    return answer;
  }

  /** All identity header names, including the assertion's when enabled (for anti-spoofing). */
  get identityHeaderNames(): string[] {
    const names = identityHeaderNames(this.config.authz.headers);
    if (this.signer) names.push(this.config.authz.assertion.header);
    return names;
  }

  async authorize(request: ResolveRequest): Promise<GatewayAnswer> {
    try {
      const resolution = await this.resolver.resolve(request);
      if (!this.signer) return this.allowedFor(resolution);
      // The assertion is signed per token: never shared between answers.
      const headers = identityHeaders(resolution, this.config.authz.headers);
      const { header, value } = await this.signer.sign(resolution);
      headers[header] = value;
      return {
        allowed: true,
        headers,
        remove: this.identityHeaderNames.filter((name) => !(name in headers)),
      };
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      const { httpStatus } = presentReason(error.reason);
      const headers = challengeHeaders(error.reason, this.config.domain);
      if (this.config.authz.exposeReasonHeader)
        headers[this.config.authz.reasonHeader] = error.reason;
      return {
        allowed: false,
        reason: error.reason,
        status: httpStatus,
        headers,
        body: GENERIC_BODY[httpStatus],
      };
    }
  }
}
