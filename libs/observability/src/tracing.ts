import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  trace,
  type Tracer,
} from '@opentelemetry/api';

/**
 * The attribute keys the resolver's own spans carry. Nothing else is ever recorded: no token
 * or part of one, no claim value (subject, email, issuer, audience), no credential, no path a
 * caller chose, no error message (reasons are codes, docs/tracing.md).
 */
export const TRACE_ATTRIBUTES = {
  /** The stable reason code of a refusal (libs/reasons). */
  reason: 'resolver.reason',
  /** The entry point (`http`, `grpc`, `forward_auth`, `ext_authz`). */
  transport: 'resolver.transport',
  /** Where the answer came from: CACHE, STORE, PROVISIONED. */
  source: 'resolver.source',
  /** The pipeline step a span is (`decode`, `signature`, `lookup` ...). */
  step: 'resolver.step',
  /** The step's stage: `token` or `user`. */
  stage: 'resolver.stage',
  /** The class of an unexpected failure (a bug), never its message. */
  errorType: 'error.type',
} as const;

/** The W3C Trace Context header (and gRPC metadata key) that names a caller's trace. */
export const TRACEPARENT = 'traceparent';

/** The prefix of a pipeline step's span name: `resolver.step.signature`. */
export const STEP_SPAN_PREFIX = 'resolver.step.';

/** An outgoing call's headers, where the trace context is written. */
export type OutgoingHeaders = Record<string, string>;

/**
 * The resolver's tracing: a tracer and the W3C Trace Context propagator when tracing is on
 * (`startTracing` in `./tracing-sdk` builds them), nothing at all when off: {@link Tracing.OFF}
 * records nothing, and every traced code path checks {@link on} once, so the untraced path runs
 * unchanged. Only `@opentelemetry/api` is loaded with this module; the SDK is loaded by
 * `startTracing`, and only when tracing is on.
 */
export class Tracing {
  static readonly OFF = new Tracing();
  readonly on: boolean;

  constructor(
    readonly tracer?: Tracer,
    private readonly propagator?: TextMapPropagator,
    private readonly stop?: () => Promise<void>,
  ) {
    this.on = tracer !== undefined;
  }

  /**
   * The caller's trace context (W3C `traceparent` and `tracestate`) from a carrier: HTTP
   * headers or gRPC metadata. A malformed value is ignored: the request starts a new trace.
   */
  extract<C>(carrier: C, getter: TextMapGetter<C>): Context {
    if (!this.propagator) return ROOT_CONTEXT;
    try {
      return this.propagator.extract(ROOT_CONTEXT, carrier, getter);
    } catch {
      return ROOT_CONTEXT;
    }
  }

  /** Writes the active span's `traceparent` (and `tracestate`) into an outgoing call's headers. */
  inject(headers: OutgoingHeaders): OutgoingHeaders {
    this.propagator?.inject(context.active(), headers, {
      set: (carrier: OutgoingHeaders, key: string, value: string) => (carrier[key] = value),
    });
    return headers;
  }

  /** A span for a request this process serves, continuing `parent` (the caller's trace). */
  startServer(name: string, parent: Context, attributes: Attributes): Span {
    return this.requireTracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  }

  /**
   * Runs `fn` in a span, the active context's child (a client span for an outgoing call, an
   * internal one for a step), ending it when `fn` settles; a failure sets the error status
   * with `describe(error)` as its only detail (a reason code or an error class, never a message).
   */
  async within<T>(
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    fn: () => Promise<T>,
    describe: (error: unknown) => Attributes = errorType,
  ): Promise<T> {
    const span = this.requireTracer().startSpan(name, { kind, attributes }, context.active());
    try {
      return await context.with(trace.setSpan(context.active(), span), fn);
    } catch (error) {
      failSpan(span, describe(error));
      throw error;
    } finally {
      span.end();
    }
  }

  /** Flushes the spans not yet exported and stops the exporter (shutdown). */
  async shutdown(): Promise<void> {
    await this.stop?.();
  }

  private requireTracer(): Tracer {
    if (!this.tracer) throw new Error('tracing is off: no span can be started');
    return this.tracer;
  }
}

/** Marks a span failed with attributes that describe why, and only those. */
export function failSpan(span: Span, attributes: Attributes): void {
  span.setAttributes(attributes);
  const reason = attributes[TRACE_ATTRIBUTES.reason] ?? attributes[TRACE_ATTRIBUTES.errorType];
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof reason === 'string' ? reason : undefined,
  });
}

/** The class of an error as a span attribute: its name, never its message. */
export function errorType(error: unknown): Attributes {
  return {
    [TRACE_ATTRIBUTES.errorType]:
      error instanceof Error ? error.constructor.name || error.name : typeof error,
  };
}

/** The trace id of the active span (the request's), when tracing is on and there is one. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span ? span.spanContext().traceId : undefined;
}

const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;

/**
 * The trace id a caller's `traceparent` names, for the failure log line when tracing is off:
 * 32 lowercase hex digits, not all zero, version not `ff`; anything else is no trace id.
 */
export function traceIdOf(traceparent: unknown): string | undefined {
  const value = Array.isArray(traceparent) ? (traceparent as unknown[])[0] : traceparent;
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const match = TRACEPARENT_FORMAT.exec(value.trim());
  if (!match || match[1] === 'ff') return undefined;
  if (/^0+$/.test(match[2] as string) || /^0+$/.test(match[3] as string)) return undefined;
  if (match[1] === '00' && match[5] === '-') return undefined;
  return match[2];
}

export { SpanKind, type Attributes, type TextMapGetter };
