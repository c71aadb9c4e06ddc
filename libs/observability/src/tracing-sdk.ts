import { context, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type ExportResult,
  ExportResultCode,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '@resolver/config';
import { Tracing } from './tracing';

/**
 * The OpenTelemetry SDK, loaded only when tracing is on (`startResolver` imports this module
 * then, and only then): a tracer provider with the configured sampler and resource, a batch
 * processor, and the OTLP/HTTP exporter (protobuf or JSON). Not exported from the lib's index,
 * so that importing `@resolver/observability` never loads the SDK.
 */

const TRACER_NAME = 'subject-resolver';
/** How often a failing export is reported in the log: not once per batch. */
const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The context manager that carries the active span across awaits (AsyncLocalStorage), set once
 * per process, the first time tracing starts, and left in place: it is global in the API, and
 * costs nothing where no span is made active. Never set while tracing is off.
 */
export function installContextManager(): void {
  const manager = new AsyncLocalStorageContextManager();
  if (context.setGlobalContextManager(manager.enable())) return;
  manager.disable();
}

export function samplerFor(config: Pick<TracingConfig, 'sampler' | 'ratio'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.ratio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** The OTLP/HTTP exporter of the configured encoding, URL, headers and timeout. */
export function otlpExporter(config: TracingConfig): SpanExporter {
  const options = {
    url: config.url,
    headers: { ...config.headers },
    timeoutMillis: config.timeoutMs,
  };
  return config.protocol === 'http/json'
    ? new JsonExporter(options)
    : new ProtobufExporter(options);
}

/**
 * An exporter whose failures are logged (at most once a minute, with the collector's URL and
 * the error's text: neither holds span data), since the SDK itself reports them nowhere.
 */
class ReportingExporter implements SpanExporter {
  private lastReport = 0;
  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
    private readonly warn: (line: string) => void,
  ) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        const now = Date.now();
        if (now - this.lastReport >= EXPORT_FAILURE_LOG_INTERVAL_MS) {
          this.lastReport = now;
          this.warn(
            `trace export to ${this.url} failed (${spans.length} spans dropped): ${result.error?.message ?? 'unknown error'}`,
          );
        }
      }
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface TracingParts {
  /** Where the spans go; default the configured OTLP exporter. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends (tests); default batched. */
  readonly simple?: boolean;
  /** Where export failures are reported. */
  readonly warn?: (line: string) => void;
  readonly version?: string;
}

/**
 * Starts tracing: the tracer provider (sampler, resource, processor, exporter) and the W3C Trace
 * Context propagator, as a {@link Tracing} the resolver hands to every traced part. The tracer is
 * not registered globally: each started resolver has its own (tests start several in one
 * process); only the context manager is global. `Tracing.shutdown` flushes what is buffered.
 */
export function startTracing(config: TracingConfig, parts: TracingParts = {}): Tracing {
  installContextManager();
  const exporter = new ReportingExporter(
    parts.exporter ?? otlpExporter(config),
    config.url,
    parts.warn ?? (() => undefined),
  );
  const processor: SpanProcessor = parts.simple
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({
    sampler: samplerFor(config),
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(parts.version ? { [ATTR_SERVICE_VERSION]: parts.version } : {}),
    }),
    spanProcessors: [processor],
  });
  const propagator: TextMapPropagator = new W3CTraceContextPropagator();
  return new Tracing(provider.getTracer(TRACER_NAME, parts.version), propagator, () =>
    provider.shutdown(),
  );
}
