import { context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { InMemorySpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { buildConfig } from '@resolver/config';
import { SpanKind, traceIdOf, Tracing } from './tracing';
import { startTracing } from './tracing-sdk';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const carrier = (headers: Record<string, unknown>) => headers;
const GETTER = {
  get: (c: Record<string, unknown>, k: string) =>
    Object.hasOwn(c, k) ? (c[k] as string) : undefined,
  keys: (c: Record<string, unknown>) => Object.keys(c),
};
/** Malformed and hostile trace contexts a caller may send. */
const HOSTILE = [
  '',
  'garbage',
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
  '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
  '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
  'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
  `00-${'a'.repeat(10_000)}-00f067aa0ba902b7-01`,
  '00-4bf92f3577b34da6a3ce929d0e0e473\u0000-00f067aa0ba902b7-01',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
];

let tracing: Tracing;
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  const config = buildConfig({}, {}, { source: 'spec', baseDir: '/' }).tracing;
  tracing = startTracing({ ...config, enabled: true }, { exporter, simple: true });
});
afterAll(() => tracing.shutdown());

describe('trace context from callers', () => {
  it('continues a valid traceparent (with its tracestate), and ignores every malformed one', () => {
    const parent = tracing.extract(
      carrier({ traceparent: VALID, tracestate: 'vendor=abc' }),
      GETTER,
    );
    const span = trace.getSpanContext(parent);
    expect(span).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', isRemote: true });
    expect(span?.traceState?.get('vendor')).toBe('abc');
    for (const traceparent of HOSTILE) {
      const ctx = tracing.extract(carrier({ traceparent, tracestate: 'x'.repeat(5000) }), GETTER);
      expect(trace.getSpanContext(ctx)).toBeUndefined();
      expect(traceIdOf(traceparent)).toBeUndefined();
    }
    // A header array (a repeated header) and a non-string never throw.
    expect(() => tracing.extract(carrier({ traceparent: [VALID, 'x'] }), GETTER)).not.toThrow();
    expect(() => tracing.extract(carrier({ traceparent: 42 }), GETTER)).not.toThrow();
  });

  it('never throws on any input, and a trace id is only ever 32 lowercase hex digits', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f-]{50,60}$/)), (value) => {
        const ctx = tracing.extract(carrier({ traceparent: value, tracestate: value }), GETTER);
        const span = trace.getSpanContext(ctx);
        if (span) expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
        const id = traceIdOf(value);
        if (id !== undefined) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
      }),
    );
    expect(traceIdOf(VALID)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf([VALID])).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(undefined)).toBeUndefined();
  });

  it('passes the active span on to an outgoing call’s headers, and nothing when off', async () => {
    const parent = tracing.extract(carrier({ traceparent: VALID }), GETTER);
    const headers = await context.with(parent, () =>
      tracing.within('GET', SpanKind.CLIENT, {}, () => Promise.resolve(tracing.inject({}))),
    );
    expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(headers.traceparent).not.toContain('00f067aa0ba902b7');
    expect(Tracing.OFF.on).toBe(false);
    expect(await context.with(parent, () => Promise.resolve(Tracing.OFF.inject({})))).toEqual({});
    expect(Tracing.OFF.extract(carrier({ traceparent: VALID }), GETTER)).toBe(
      Tracing.OFF.extract(carrier({}), GETTER),
    );
  });

  it('reports a failing export in the log at most once a minute, never the spans', async () => {
    const warnings: string[] = [];
    const failing: SpanExporter = {
      export: (_spans, done) =>
        done({ code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') }),
      shutdown: () => Promise.resolve(),
    };
    const config = buildConfig({}, {}, { source: 'spec', baseDir: '/' }).tracing;
    const down = startTracing(
      { ...config, enabled: true },
      { exporter: failing, simple: true, warn: (line) => warnings.push(line) },
    );
    for (let i = 0; i < 3; i++) down.tracer?.startSpan('resolver.step.decode').end();
    await down.shutdown();
    expect(warnings).toEqual([
      'trace export to http://localhost:4318/v1/traces failed (1 spans dropped): ECONNREFUSED',
    ]);
  });
});
