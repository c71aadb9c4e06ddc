import type { ResolverLogger } from './logger';
import type { ResolverMetrics } from './resolver-metrics';
import type { ErrorSurface } from './transport';

/**
 * The one place an unexpected error (a bug) is accounted for: `resolver_internal_errors_total`
 * once and one log line with the stack, never the request's token. Every transport's last
 * error handler calls it — after the use case *and* after the transport's own translation of
 * the answer, which is where a bug the use case never sees would otherwise go uncounted.
 */
export class InternalErrors {
  constructor(
    private readonly metrics: ResolverMetrics,
    private readonly log: ResolverLogger,
  ) {}

  report(surface: ErrorSurface, error: unknown, requestId?: string): void {
    this.metrics.internalErrors.labels(surface).inc();
    this.log.internalError({ requestId, transport: surface, error });
  }
}
