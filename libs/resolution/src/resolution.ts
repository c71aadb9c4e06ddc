import type { PrincipalKind, UserStatus } from '@resolver/identity';
import type { Transport } from '@resolver/observability';
import type { CertificateSource, PresentedCertificate } from '@resolver/tokens';

/** What a gateway said about the original request (method, URI, host, client, request id). */
export type GatewayContext = Readonly<Record<string, string | undefined>>;

/**
 * A value only the failure log line needs, or a function that reads it: a transport passes the
 * function, so a request that succeeds (nearly all) never builds it.
 */
export type ForTheLog<T> = T | (() => T);

/** Input of ResolveSubject: a token field and/or an Authorization header, and who asked. */
export interface ResolveRequest {
  /** The request's token field, as received (validated here, not by the transport). */
  readonly token?: unknown;
  readonly authorization?: string;
  readonly transport: Transport;
  /**
   * What a gateway said about the original request, for the failure log line only: never used
   * in the decision. Values are bounded here.
   */
  readonly context?: ForTheLog<GatewayContext | undefined>;
  /** The caller's request id (`x-request-id` / gRPC metadata); generated when absent. */
  readonly requestId?: ForTheLog<string | undefined>;
  /**
   * The caller's W3C `traceparent` as received, for the failure log line's trace id when
   * tracing is off (with tracing on, the request's span gives it). Validated here.
   */
  readonly traceparent?: ForTheLog<unknown>;
  /**
   * The request as the gateway (or the calling backend) saw it, for the sender-binding step:
   * read only when a token is bound or its issuer requires a binding, so a plain bearer token
   * never pays for building it.
   */
  readonly presented?: () => PresentedRequest;
}

/**
 * What the gateway saw of the request a token came with: what a sender binding is checked
 * against (RFC 9449 DPoP: method, URI and proof; RFC 8705: the client certificate). Each field
 * comes from what the gateway forwards (or the backend's own request), never from the token's
 * holder; absent when not forwarded.
 */
export interface PresentedRequest {
  /** The HTTP method of the original request (DPoP `htm`). */
  readonly method?: string;
  /** The absolute URI of the original request (DPoP `htu`; query and fragment are ignored). */
  readonly uri?: string;
  /** The `DPoP` header of the original request: one compact JWS (several joined are refused). */
  readonly dpop?: string;
  /**
   * The `clientCertificate` field of a resolve call as sent (PEM or URL-encoded PEM), bounded:
   * the transport reads it into {@link certificate} only when its sender is trusted.
   */
  readonly clientCertificate?: string;
  /**
   * The client certificate a certificate-bound token (RFC 8705) is checked against, as the
   * transport found it: the resolver's own TLS peer (a backend calling with its own
   * certificate), ext_authz's `source.certificate`, a trusted gateway's forwarded header, or the
   * trusted request field.
   */
  readonly certificate?: PresentedCertificate;
  /** A forwarded certificate that came from a sender the resolver does not trust, dropped unread. */
  readonly certificateIgnored?: CertificateSource;
}

/** The resolved caller, transport-neutral. */
export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly tenantId: string;
  readonly email: string;
  readonly username: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly status: UserStatus;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface TokenInfo {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: readonly string[];
  readonly expiresAt?: Date;
  readonly issuedAt?: Date;
  readonly jti: string;
  readonly scopes: readonly string[];
}

/** Where the answer came from. */
export type ResolutionSource = 'CACHE' | 'STORE' | 'PROVISIONED';

export interface Resolution {
  readonly principal: Principal;
  readonly token: TokenInfo;
  readonly source: ResolutionSource;
}
