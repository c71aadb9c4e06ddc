import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { presentReason, isResolutionError, type ReasonCode } from '@resolver/reasons';
import {
  type Principal,
  type Resolution,
  ResolveSubject,
  type ResolveRequest,
} from '@resolver/resolution';
import { fallbackChallenge, refusalHeaders } from '../shared/errors/auth-challenge';
import { IdentityAssertionSigner } from './identity-assertion';
import { identityHeaderNames, identityHeaders } from './identity-headers';

/** DI token of the assertion signer (present only when `authz.assertion.enabled`). */
export const ASSERTION_SIGNER = Symbol('ASSERTION_SIGNER');

/** What a gateway is told: identity headers to set upstream, or a refusal to send the client. */
export type GatewayAnswer =
  | {
      readonly allowed: true;
      /** Headers the gateway sets on the upstream request (lowercase names); may be shared. */
      readonly headers: Readonly<Record<string, string>>;
      /** Identity header names the gateway must remove: configured but not set in `headers`. */
      readonly remove: readonly string[];
      /** `remove` joined with `,` (Envoy's `x-envoy-auth-headers-to-remove`). */
      readonly removeList: string;
      /**
       * The same object answers every request of its (cached) principal: a transport may key
       * what it derives from it by the answer. False for an answer built for one request.
       */
      readonly shared: boolean;
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
  /** All identity header names, including the assertion's when enabled (for anti-spoofing). */
  readonly identityHeaderNames: readonly string[];
  /**
   * The allowed answer for a principal from the user cache, built once: such a principal is
   * shared and immutable (see ResolveSubject), and so is the answer. Not for a fresh principal
   * (store, JIT), which would only outlive its request in here, nor with an assertion, which is
   * signed per request.
   */
  private readonly answers = new WeakMap<Principal, GatewayAnswer & { allowed: true }>();

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly resolver: ResolveSubject,
    @Optional() @Inject(ASSERTION_SIGNER) private readonly signer?: IdentityAssertionSigner,
  ) {
    const names = identityHeaderNames(config.authz.headers);
    if (signer) names.push(config.authz.assertion.header);
    this.identityHeaderNames = names;
  }

  /**
   * The allowed answer for a token the use case answers from memory ({@link
   * ResolveSubject.answerFromMemory}), with no promise; undefined for anything else, which
   * {@link authorize} answers. Never with an assertion, which is signed per request.
   */
  answerFromMemory(request: ResolveRequest): (GatewayAnswer & { allowed: true }) | undefined {
    if (this.signer) return undefined;
    const resolution = this.resolver.answerFromMemory(request);
    return resolution && this.sharedAnswer(resolution);
  }

  async authorize(request: ResolveRequest): Promise<GatewayAnswer> {
    try {
      const resolution = await this.resolver.resolve(request);
      if (this.signer) {
        const headers = identityHeaders(resolution, this.config.authz.headers);
        const { header, value } = await this.signer.sign(resolution);
        headers[header] = value;
        return this.allowed(headers, false);
      }
      if (resolution.source !== 'CACHE')
        return this.allowed(identityHeaders(resolution, this.config.authz.headers), false);
      return this.sharedAnswer(resolution);
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      const { httpStatus } = presentReason(error.reason);
      const headers = refusalHeaders(error, this.config.domain, fallbackChallenge(this.config));
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

  /** The allowed answer of a cached principal, built once (see {@link answers}). */
  private sharedAnswer(resolution: Resolution): GatewayAnswer & { allowed: true } {
    const known = this.answers.get(resolution.principal);
    if (known) return known;
    const answer = this.allowed(identityHeaders(resolution, this.config.authz.headers), true);
    this.answers.set(resolution.principal, answer);
    return answer;
  }

  private allowed(
    headers: Record<string, string>,
    shared: boolean,
  ): GatewayAnswer & { allowed: true } {
    const remove = this.identityHeaderNames.filter((name) => !(name in headers));
    return { allowed: true, headers, remove, removeList: remove.join(','), shared };
  }
}
