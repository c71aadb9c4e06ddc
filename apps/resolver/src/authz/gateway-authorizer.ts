import { Inject, Injectable, Optional } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { presentReason, isResolutionError, type ReasonCode } from '@resolver/reasons';
import { ResolveSubject, type ResolveRequest } from '@resolver/resolution';
import { challengeHeaders } from '../shared/errors/problem';
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

  /** All identity header names, including the assertion's when enabled (for anti-spoofing). */
  get identityHeaderNames(): string[] {
    const names = identityHeaderNames(this.config.authz.headers);
    if (this.signer) names.push(this.config.authz.assertion.header);
    return names;
  }

  async authorize(request: ResolveRequest): Promise<GatewayAnswer> {
    try {
      const resolution = await this.resolver.resolve(request);
      const headers = identityHeaders(resolution, this.config.authz.headers);
      if (this.signer) {
        const { header, value } = await this.signer.sign(resolution);
        headers[header] = value;
      }
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
