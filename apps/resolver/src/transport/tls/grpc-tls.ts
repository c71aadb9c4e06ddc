import type { Http2SecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import {
  Metadata,
  type Server,
  ServerCredentials,
  type ServerErrorResponse,
  status,
} from '@grpc/grpc-js';
import type { ListenerTlsConfig, Surface, TlsMaterial } from '@resolver/config';
import type { TlsRefusal } from '@resolver/observability';
import {
  ANONYMOUS,
  type CallerPolicy,
  FORWARDED_CERTIFICATE_HEADERS,
  type Peer,
} from './caller-policy';
import { REFUSAL_DETAIL, secureContextOptions } from './http-tls';

/**
 * gRPC server credentials whose certificate can be replaced while serving. grpc-js's
 * `ServerCredentials.createSsl` fixes its key pair at creation and has no "optional" client
 * certificate mode; its base class, though, lets credentials push new context options to every
 * server bound with them, which grpc-js applies with `setSecureContext` — the same in-place
 * reload as the HTTPS listener: new handshakes get the new certificate, open connections are
 * never dropped. Client certificates are asked for and left to the connection guard to judge.
 *
 * They start without a certificate, which grpc-js honours by closing every connection: the
 * first {@link update} comes once the guard is on the bound server, so no connection is ever
 * served unguarded.
 */
export class ReloadableServerCredentials extends ServerCredentials {
  constructor(private readonly listener: ListenerTlsConfig) {
    super({
      requestCert: listener.clientCertificate !== 'none',
      rejectUnauthorized: false,
      minVersion: listener.minVersion,
    });
  }

  update(material: TlsMaterial): void {
    this.updateSecureContextOptions(secureContextOptions(material, this.listener));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * The http2 servers grpc-js listens with. grpc-js offers no hook on its TLS connections, so the
 * guard reaches its (private) server map; if a grpc-js release renames it the boot fails here
 * rather than serving without the guard (and the TLS suite fails first).
 */
export function grpcHttp2Servers(server: Server): Http2SecureServer[] {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map))
    throw new Error(
      'cannot guard gRPC TLS connections: @grpc/grpc-js no longer exposes its http2 servers (check the grpc-js version)',
    );
  return [...(servers as Map<Http2SecureServer, unknown>).keys()];
}

/**
 * The peers of the gRPC listener's open connections, by `address:port` — the form grpc-js's
 * `call.getPeer()` gives, so a call finds its connection's peer without parsing a certificate.
 */
export class GrpcPeers {
  private readonly peers = new Map<string, Peer>();

  admit(socket: TLSSocket, peer: Peer): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    this.peers.set(key, peer);
    socket.once('close', () => {
      if (this.peers.get(key) === peer) this.peers.delete(key);
    });
  }

  of(callPeer: string): Peer {
    return this.peers.get(callPeer) ?? ANONYMOUS;
  }

  get size(): number {
    return this.peers.size;
  }
}

/** The surface of each unary method Nest serves (health and reflection are open, and not here). */
const METHOD_SURFACES: ReadonlyMap<string, Surface> = new Map([
  ['/identity.v1.SubjectResolver/ResolveSubject', 'resolve'],
  ['/identity.v1.SubjectResolver/DiagnoseSubject', 'diagnose'],
  ['/envoy.service.auth.v3.Authorization/Check', 'authz'],
]);

interface GuardedCall {
  getPath(): string;
  getPeer(): string;
  metadata: Metadata;
  request: unknown;
}

function hasForwardedCertificate(call: GuardedCall): boolean {
  for (const name of FORWARDED_CERTIFICATE_HEADERS) if (call.metadata.get(name).length) return true;
  // ext_authz: the gateway's view of the request carries its client's certificate headers.
  const http = (call.request as { attributes?: { request?: { http?: CheckHttp } } } | null)
    ?.attributes?.request?.http;
  if (!http) return false;
  for (const name of FORWARDED_CERTIFICATE_HEADERS) {
    if (http.headers && Object.hasOwn(http.headers, name)) return true;
    if (http.headerMap?.headers?.some((h) => h.key?.toLowerCase() === name)) return true;
  }
  return false;
}

interface CheckHttp {
  headers?: Record<string, string>;
  headerMap?: { headers?: { key?: string }[] };
}

/** Why a gRPC call may not be served to its connection's peer, or undefined. */
export function grpcRefusal(
  policy: CallerPolicy,
  peers: GrpcPeers,
  call: GuardedCall,
): TlsRefusal | undefined {
  const peer = peers.of(call.getPeer());
  const refusal = policy.refusal(peer, METHOD_SURFACES.get(call.getPath()));
  if (refusal) return refusal;
  if (hasForwardedCertificate(call) && policy.refusal(peer, 'forwarded-certificate'))
    return 'forwarded_certificate_not_allowed';
  return undefined;
}

/** The gRPC status of a refusal: no certificate is UNAUTHENTICATED, the wrong one PERMISSION_DENIED. */
export function grpcRefusalStatus(refusal: TlsRefusal): ServerErrorResponse {
  const error = new Error(REFUSAL_DETAIL[refusal]) as ServerErrorResponse;
  error.code = refusal === 'caller_anonymous' ? status.UNAUTHENTICATED : status.PERMISSION_DENIED;
  error.details = REFUSAL_DETAIL[refusal];
  error.metadata = new Metadata();
  return error;
}
