import { Counter, Gauge, type Registry } from 'prom-client';

/** A listener the resolver serves: the HTTP one (Fastify) or the gRPC one. */
export type Listener = 'http' | 'grpc';

/**
 * Why a TLS connection or a request on it was refused (the `reason` of
 * `resolver_tls_refusals_total`): at the handshake, for the client certificate, or for what the
 * certificate's caller may call.
 */
export const TLS_REFUSALS = [
  'handshake_failed',
  'handshake_aborted',
  'certificate_missing',
  'certificate_expired',
  'certificate_not_yet_valid',
  'certificate_untrusted',
  'certificate_invalid',
  'caller_anonymous',
  'caller_unknown',
  'caller_not_allowed',
  'forwarded_certificate_not_allowed',
] as const;
export type TlsRefusal = (typeof TLS_REFUSALS)[number];

/** Transport security metrics, in the resolver's registry. */
export class TlsMetrics {
  readonly refusals: Counter<'listener' | 'reason'>;
  readonly reloads: Counter<'listener' | 'result'>;
  readonly expiry: Gauge<'listener' | 'certificate'>;

  /**
   * Series exist at zero from boot: the connection-level reasons for each listener that serves
   * TLS, the caller reasons on both listeners when callers are enforced.
   */
  constructor(registry: Registry, tlsListeners: readonly Listener[], callersEnforced: boolean) {
    this.refusals = new Counter({
      name: 'resolver_tls_refusals_total',
      help: 'TLS connections and requests refused, by listener (http|grpc) and reason (handshake, client certificate, or what its caller may call).',
      labelNames: ['listener', 'reason'] as const,
      registers: [registry],
    });
    this.reloads = new Counter({
      name: 'resolver_tls_reloads_total',
      help: 'Certificate reloads after a file changed, by listener and result (success|failure: the previous certificate stays in use).',
      labelNames: ['listener', 'result'] as const,
      registers: [registry],
    });
    this.expiry = new Gauge({
      name: 'resolver_tls_certificate_expiry_seconds',
      help: 'When a certificate in use stops being valid (Unix time): the serving certificate, and the earliest client CA, by listener.',
      labelNames: ['listener', 'certificate'] as const,
      registers: [registry],
      // Across WORKERS the earliest one is the one that matters (never a sum of timestamps).
      aggregator: 'min',
    });
    for (const listener of ['http', 'grpc'] as const) {
      const tls = tlsListeners.includes(listener);
      for (const reason of TLS_REFUSALS) {
        const callerReason = reason.startsWith('caller_') || reason.startsWith('forwarded_');
        if (callerReason ? callersEnforced : tls) this.refusals.labels(listener, reason).inc(0);
      }
      if (!tls) continue;
      this.reloads.labels(listener, 'success').inc(0);
      this.reloads.labels(listener, 'failure').inc(0);
    }
  }

  refused(listener: Listener, reason: TlsRefusal): void {
    this.refusals.labels(listener, reason).inc();
  }

  /** The validity end of what a listener now serves with. */
  inUse(listener: Listener, notAfter: Date, caNotAfter: Date | undefined): void {
    this.expiry.labels(listener, 'serving').set(notAfter.getTime() / 1000);
    if (caNotAfter) this.expiry.labels(listener, 'client_ca').set(caNotAfter.getTime() / 1000);
    else this.expiry.remove(listener, 'client_ca');
  }
}
