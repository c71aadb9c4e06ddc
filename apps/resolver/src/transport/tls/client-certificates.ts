import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { Inject, Injectable } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import {
  type CertificateSource,
  ForwardedCertificateTrust,
  type ForwardingPeer,
  type PresentedCertificate,
  readDerCertificate,
  readForwardedCertificate,
  readPem,
  readUrlEncodedPem,
} from '@resolver/tokens';
import type { Peer } from './caller-policy';
import { peerOf } from './connection-guard';
import { TransportSecurity } from './transport-security';

/**
 * The client certificate a request came with, for a certificate-bound token (RFC 8705), and the
 * forwarded one that was dropped because its sender is not trusted (diagnose says so).
 */
export interface RequestCertificate {
  readonly certificate?: PresentedCertificate;
  readonly certificateIgnored?: CertificateSource;
}

/** What an HTTP request offers: its headers and its connection. */
export interface HttpCertificateInput {
  readonly headers: IncomingHttpHeaders;
  readonly socket: unknown;
}

/** What a gRPC call offers: its metadata, its peer (`address:port`) and its TLS context. */
export interface GrpcCertificateInput {
  readonly metadata: Metadata;
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate };
}

const NOTHING: RequestCertificate = Object.freeze({});

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  // Several copies of a certificate header are one too many: only a single value is read.
  return Array.isArray(value) ? undefined : value;
}

function metadataValue(metadata: Metadata, name: string): string | undefined {
  const values = metadata.get(name);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/** `10.0.0.1:5000`, `[::1]:5000` or `::1:5000` (grpc-js prints IPv6 without brackets). */
export function addressOfGrpcPeer(peer: string): string | undefined {
  if (peer.startsWith('[')) {
    const close = peer.indexOf(']');
    return close > 0 ? peer.slice(1, close) : undefined;
  }
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : undefined;
}

/** The request field: PEM as it is, or URL-encoded as gateways forward it (a PEM has no `%`). */
function readField(value: string): PresentedCertificate {
  const encoded = value.includes('%');
  return { source: 'request-field', reading: encoded ? readUrlEncodedPem(value) : readPem(value) };
}

/** The verified certificate of a TLS peer (the connection guard let only valid ones in). */
function tlsPeer(certificate: PeerCertificate | undefined): RequestCertificate {
  if (!certificate?.raw) return NOTHING;
  return { certificate: { source: 'tls-peer', reading: readDerCertificate(certificate.raw) } };
}

/**
 * Where each entry point finds the client certificate a certificate-bound token is checked
 * against. A gateway's own TLS certificate is never the client's (forward-auth and ext_authz
 * read only what the gateway forwards); a backend calling ResolveSubject with its own
 * certificate is its own client. A forwarded certificate — a header, ext_authz's
 * `source.certificate`, the request field — is read only from a sender the resolver trusts
 * ({@link ForwardedCertificateTrust}); from anyone else it is dropped unread.
 */
@Injectable()
export class ClientCertificates {
  private readonly trust: ForwardedCertificateTrust;
  /** What each open HTTP connection's own certificate reads as (dropped with the socket). */
  private readonly peers = new WeakMap<object, RequestCertificate>();

  constructor(
    @Inject(RESOLVER_CONFIG) config: ResolverConfig,
    private readonly security: TransportSecurity,
  ) {
    this.trust = new ForwardedCertificateTrust(config.binding.forwardedCertificate);
  }

  /** Forward-auth: the header the trusted gateway forwarded. */
  ofForwardAuth(request: HttpCertificateInput): RequestCertificate {
    return this.forwardedHeader(request.headers, () => this.httpSender(request));
  }

  /** POST /v1/resolve: the field, else a forwarded header, else the caller's own certificate. */
  ofResolveHttp(request: HttpCertificateInput, field: string | undefined): RequestCertificate {
    const sender = () => this.httpSender(request);
    return this.ofBackend(field, sender, request.headers, () => this.httpTlsPeer(request.socket));
  }

  /**
   * Envoy ext_authz Check: `attributes.source.certificate` (`include_peer_certificate`), else the
   * XFCC (or configured) header among the request headers Envoy saw. Believed only when the
   * Check's own caller is trusted.
   */
  ofExtAuthz(
    call: GrpcCertificateInput,
    sourceCertificate: string | undefined,
    requestHeaders: (name: string) => string | undefined,
  ): RequestCertificate {
    const sent = sourceCertificate !== undefined && sourceCertificate !== '';
    const configured = this.trust.header;
    const forwarded = configured ? requestHeaders(configured.name) : undefined;
    if (!sent && forwarded === undefined) return NOTHING;
    if (!this.trust.basis(this.grpcSender(call)))
      return { certificateIgnored: sent ? 'ext-authz-source' : 'forwarded-header' };
    if (sent)
      return {
        certificate: { source: 'ext-authz-source', reading: readUrlEncodedPem(sourceCertificate) },
      };
    if (!configured || forwarded === undefined) return NOTHING;
    return {
      certificate: {
        source: 'forwarded-header',
        reading: readForwardedCertificate(configured.format, forwarded),
      },
    };
  }

  /** gRPC ResolveSubject: the field, else a forwarded metadata header, else the caller's own. */
  ofResolveGrpc(call: GrpcCertificateInput, field: string | undefined): RequestCertificate {
    const configured = this.trust.header;
    const value = configured ? metadataValue(call.metadata, configured.name) : undefined;
    const headers: IncomingHttpHeaders =
      configured && value !== undefined ? { [configured.name]: value } : {};
    return this.ofBackend(
      field,
      () => this.grpcSender(call),
      headers,
      () => tlsPeer(call.getAuthContext?.().sslPeerCertificate),
    );
  }

  private ofBackend(
    field: string | undefined,
    sender: () => ForwardingPeer,
    headers: IncomingHttpHeaders,
    own: () => RequestCertificate,
  ): RequestCertificate {
    if (field !== undefined && field !== '') {
      if (this.trust.basis(sender())) return { certificate: readField(field) };
      const peer = own();
      return { ...peer, certificateIgnored: 'request-field' };
    }
    const forwarded = this.forwardedHeader(headers, sender);
    if (forwarded.certificate) return forwarded;
    const peer = own();
    return forwarded.certificateIgnored
      ? { ...peer, certificateIgnored: forwarded.certificateIgnored }
      : peer;
  }

  private forwardedHeader(
    headers: IncomingHttpHeaders,
    sender: () => ForwardingPeer,
  ): RequestCertificate {
    const configured = this.trust.header;
    if (!configured) return NOTHING;
    const value = header(headers, configured.name);
    if (value === undefined) return NOTHING;
    if (!this.trust.basis(sender())) return { certificateIgnored: 'forwarded-header' };
    return {
      certificate: {
        source: 'forwarded-header',
        reading: readForwardedCertificate(configured.format, value),
      },
    };
  }

  private httpSender(request: HttpCertificateInput): ForwardingPeer {
    const secretHeader = this.trust.secretHeader;
    return {
      remoteAddress: (request.socket as { remoteAddress?: string } | undefined)?.remoteAddress,
      callerMayForward: this.mayForward(peerOf(request.socket)),
      secret: secretHeader === undefined ? undefined : header(request.headers, secretHeader),
    };
  }

  private grpcSender(call: GrpcCertificateInput): ForwardingPeer {
    const secretHeader = this.trust.secretHeader;
    const peer = call.getPeer();
    return {
      remoteAddress: addressOfGrpcPeer(peer),
      callerMayForward: this.mayForward(this.security.grpcPeer(peer)),
      secret: secretHeader === undefined ? undefined : metadataValue(call.metadata, secretHeader),
    };
  }

  /** Only with callers configured does a certificate name a caller allowed to forward. */
  private mayForward(peer: Peer): boolean {
    return (
      this.security.policy.enforced &&
      peer.kind === 'caller' &&
      peer.surfaces.has('forwarded-certificate')
    );
  }

  /**
   * The verified certificate of an HTTP connection's peer, read once per connection: Node builds
   * a new object on every `getPeerCertificate()` (some 25 µs), and a connection's certificate
   * does not change.
   */
  private httpTlsPeer(socket: unknown): RequestCertificate {
    const tls = socket as Partial<TLSSocket> | undefined;
    if (!tls || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function')
      return NOTHING;
    let found = this.peers.get(tls);
    if (!found) this.peers.set(tls, (found = tlsPeer(tls.getPeerCertificate())));
    return found;
  }
}
