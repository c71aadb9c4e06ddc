import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { ClientCertificateMode } from '@resolver/config';
import type { Listener, TlsMetrics, TlsRefusal } from '@resolver/observability';
import { ANONYMOUS, type CallerPolicy, type Peer } from './caller-policy';

/** Where a guarded connection keeps its peer (read through http2's socket proxy too). */
export const PEER = Symbol('resolver.tls.peer');

/** The peer of a connection the guard let through; anonymous for any other socket. */
export function peerOf(socket: unknown): Peer {
  return (socket as { [PEER]?: Peer } | undefined)?.[PEER] ?? ANONYMOUS;
}

/** OpenSSL's verification codes, by what they mean to an operator. */
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

const ABORTED = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_TLS_HANDSHAKE_TIMEOUT']);

function verificationCode(socket: TLSSocket): string {
  const error = socket.authorizationError as unknown;
  if (typeof error === 'string') return error;
  return (error as { code?: string } | null)?.code ?? '';
}

/**
 * What a finished handshake established: the peer, or why the connection must be closed. The
 * listener asks for certificates without letting OpenSSL reject them (`rejectUnauthorized:
 * false`), so that the reason is known here: with TLS 1.3 a rejected certificate only shows up
 * on the server as a reset, with no reason to count.
 */
export function classify(
  socket: TLSSocket,
  mode: ClientCertificateMode,
  policy: CallerPolicy,
): { peer: Peer } | { refusal: TlsRefusal } {
  if (mode === 'none') return { peer: ANONYMOUS };
  const certificate = socket.getPeerCertificate();
  if (!certificate || !certificate.raw)
    return mode === 'required' ? { refusal: 'certificate_missing' } : { peer: ANONYMOUS };
  if (!socket.authorized) {
    // A certificate that was sent and fails is refused in `optional` mode too: it is not the
    // same as no certificate.
    const code = verificationCode(socket);
    if (code === 'CERT_HAS_EXPIRED') return { refusal: 'certificate_expired' };
    if (code === 'CERT_NOT_YET_VALID') return { refusal: 'certificate_not_yet_valid' };
    if (UNTRUSTED.has(code)) return { refusal: 'certificate_untrusted' };
    return { refusal: 'certificate_invalid' };
  }
  return { peer: policy.identify(certificate) };
}

/** At most one log line per reason per window, with how many were not logged. */
export class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(listener: Listener, reason: TlsRefusal, detail: string): void {
    const key = `${listener}:${reason}`;
    const seen = this.last.get(key);
    const now = this.now();
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    const more = seen?.suppressed ? ` (${seen.suppressed} more since the last line)` : '';
    this.last.set(key, { at: now, suppressed: 0 });
    this.write(`${listener}: refused (${reason}): ${detail}${more}`);
  }
}

export interface GuardOptions {
  readonly listener: Listener;
  readonly mode: ClientCertificateMode;
  readonly policy: CallerPolicy;
  readonly metrics: TlsMetrics;
  readonly log: RefusalLog;
  /** Told of every connection let through (gRPC keeps its own index of them). */
  readonly admitted?: (socket: TLSSocket, peer: Peer) => void;
}

/**
 * Guards a TLS server: every finished handshake is classified before the HTTP layer sees the
 * socket (the listener runs first), refused connections are closed and counted, and admitted
 * ones carry their peer for the per-request surface checks. Failed handshakes are counted too.
 * Nothing here throws: a hostile client costs a counted, closed connection, never the process.
 */
export function guardTlsServer(server: TlsServer, options: GuardOptions): void {
  const { listener, mode, policy, metrics, log } = options;
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    let verdict: ReturnType<typeof classify>;
    try {
      verdict = classify(socket, mode, policy);
    } catch {
      verdict = { refusal: 'certificate_invalid' };
    }
    if ('refusal' in verdict) {
      metrics.refused(listener, verdict.refusal);
      log.note(listener, verdict.refusal, `client ${socket.remoteAddress ?? '?'}`);
      socket.destroy();
      return;
    }
    (socket as TLSSocket & { [PEER]?: Peer })[PEER] = verdict.peer;
    options.admitted?.(socket, verdict.peer);
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    // A client gone before the handshake finished (a TCP probe, a timeout) is not a TLS failure.
    const reason: TlsRefusal = ABORTED.has(error.code ?? '')
      ? 'handshake_aborted'
      : 'handshake_failed';
    metrics.refused(listener, reason);
    log.note(
      listener,
      reason,
      `client ${socket?.remoteAddress ?? '?'}: ${(error.code ?? error.message).slice(0, 200)}`,
    );
  });
}
