import { z } from 'zod';
import type { Immutable } from './immutable';

/** The OTLP/HTTP encodings the exporter speaks (OTLP over gRPC is not shipped). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The samplers of the OpenTelemetry specification (`OTEL_TRACES_SAMPLER`). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Whatever an HTTP header value may hold: visible ASCII, spaces and tabs, no line breaks. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const DEFAULT_ENDPOINT = 'http://localhost:4318';
const TRACES_PATH = '/v1/traces';

const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^/?#]+/.test(v) && URL.canParse(v), 'must be an http(s) URL');
const headerMap = z.record(
  z.string().regex(HEADER_NAME, 'is not an HTTP header name'),
  z.string().regex(HEADER_VALUE, 'must be printable ASCII on one line'),
);

/**
 * The config file's `tracing` section: OpenTelemetry traces exported over OTLP/HTTP. Off unless
 * `enabled` (or `OTEL_TRACES_EXPORTER=otlp`); the `OTEL_*` variables win field by field.
 */
export const tracingFileSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /**
     * The collector's OTLP/HTTP base URL: `/v1/traces` is appended unless the path already ends
     * with it (as OTEL_EXPORTER_OTLP_ENDPOINT).
     */
    endpoint: httpUrl.optional(),
    protocol: z.enum(OTLP_PROTOCOLS).default('http/protobuf'),
    serviceName: z.string().min(1).max(256).default('subject-resolver'),
    /** The share of new traces recorded; a caller's sampled flag decides for its own traces. */
    sampleRatio: z.number().min(0).max(1).default(1),
    /** Sent with every export (a collector's API key); never logged. */
    headers: headerMap.default({}),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Extra resource attributes (deployment.environment, k8s names ...). */
    resourceAttributes: z.record(z.string().min(1), z.string()).default({}),
  })
  .prefault({});

/** Set but empty means unset, as a shell's `FOO= cmd` does. */
const set = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * `key=value,key=value` with percent-encoded values (OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_RESOURCE_ATTRIBUTES). The messages never quote a value: a header may hold a secret.
 */
const keyValueList = (what: 'header' | 'attribute') =>
  z.string().transform((text, ctx) => {
    const out: Record<string, string> = {};
    for (const [i, item] of text.split(',').entries()) {
      if (item.trim() === '') continue;
      const eq = item.indexOf('=');
      const key = (eq < 0 ? item : item.slice(0, eq)).trim();
      let value: string | undefined;
      try {
        value = eq < 0 ? undefined : decodeURIComponent(item.slice(eq + 1).trim());
      } catch {
        value = undefined;
      }
      const badKey = what === 'header' ? !HEADER_NAME.test(key) : key === '';
      if (value === undefined || badKey || (what === 'header' && !HEADER_VALUE.test(value))) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${i + 1} is not ${what === 'header' ? 'a header name' : 'a key'}=percent-encoded value`,
        });
        return z.NEVER;
      }
      // Own keys only, on a null-prototype object: `__proto__=` is just a (bad) header name.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true });
    }
    return { ...out };
  });

const bool = set(
  z.stringbool({
    truthy: ['1', 'true', 'yes'],
    falsy: ['0', 'false', 'no'],
    error: 'must be true or false',
  }),
);
const protocol = set(
  z.enum([...OTLP_PROTOCOLS, 'grpc'], {
    error: `must be one of ${OTLP_PROTOCOLS.join(', ')}`,
  }),
);
const millis = set(
  z.coerce
    .number({ error: 'must be milliseconds (100-60000)' })
    .int('must be milliseconds (100-60000)')
    .min(100, 'must be milliseconds (100-60000)')
    .max(60_000, 'must be milliseconds (100-60000)'),
);

/** The standard OpenTelemetry variables the resolver reads (the SDK reads no others of ours). */
export const tracingEnvShape = {
  OTEL_SDK_DISABLED: bool,
  OTEL_TRACES_EXPORTER: set(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(['otlp', 'none'], { error: 'must be otlp or none' })),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: set(httpUrl),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: set(httpUrl),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_HEADERS: set(keyValueList('header')),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: set(keyValueList('header')),
  OTEL_EXPORTER_OTLP_TIMEOUT: millis,
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: millis,
  OTEL_SERVICE_NAME: set(z.string().max(256, 'must be at most 256 characters')),
  OTEL_RESOURCE_ATTRIBUTES: set(keyValueList('attribute')),
  OTEL_TRACES_SAMPLER: set(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(TRACE_SAMPLERS, { error: `must be one of ${TRACE_SAMPLERS.join(', ')}` })),
  ),
  OTEL_TRACES_SAMPLER_ARG: set(
    z.coerce
      .number({ error: 'must be a ratio between 0 and 1' })
      .min(0, 'must be a ratio between 0 and 1')
      .max(1, 'must be a ratio between 0 and 1'),
  ),
};

type TracingFile = z.output<typeof tracingFileSchema>;
type TracingEnv = z.output<z.ZodObject<typeof tracingEnvShape>>;

/** The tracing settings the resolver runs with: the file, with the `OTEL_*` variables over it. */
export interface TracingSettings {
  readonly enabled: boolean;
  /** The full OTLP/HTTP traces URL. */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly serviceName: string;
  readonly sampler: TraceSampler;
  /** The ratio of the `*traceidratio` samplers. */
  readonly ratio: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly resourceAttributes: Readonly<Record<string, string>>;
}
export type TracingConfig = Immutable<TracingSettings>;

function tracesUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.replace(/\/+$/, '').endsWith(TRACES_PATH))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${TRACES_PATH}`;
  return url.toString();
}

/**
 * The file's section with the variables over it (precedence, for each setting: the
 * traces-specific variable, then the general one, then the file, then the default).
 * `OTEL_SDK_DISABLED=true` turns tracing off whatever else says; otherwise
 * `OTEL_TRACES_EXPORTER` (`otlp` or `none`) decides over `tracing.enabled`.
 */
export function tracingSettings(
  file: TracingFile,
  env: TracingEnv,
  addIssue: (variable: string, message: string) => void,
): TracingSettings {
  const exporter = env.OTEL_TRACES_EXPORTER;
  const enabled =
    env.OTEL_SDK_DISABLED === true ? false : exporter ? exporter === 'otlp' : file.enabled;
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? file.protocol;
  if (protocol === 'grpc' && enabled) {
    const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    addIssue(variable, 'OTLP over gRPC is not supported: use http/protobuf (port 4318)');
  }
  const sampler =
    env.OTEL_TRACES_SAMPLER ??
    (file.sampleRatio === 1 ? 'parentbased_always_on' : 'parentbased_traceidratio');
  return {
    enabled,
    url:
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? file.endpoint ?? DEFAULT_ENDPOINT),
    protocol: protocol === 'grpc' ? 'http/protobuf' : protocol,
    serviceName: env.OTEL_SERVICE_NAME ?? file.serviceName,
    sampler,
    ratio: env.OTEL_TRACES_SAMPLER_ARG ?? (env.OTEL_TRACES_SAMPLER ? 1 : file.sampleRatio),
    headers: {
      ...file.headers,
      ...env.OTEL_EXPORTER_OTLP_HEADERS,
      ...env.OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    },
    timeoutMs:
      env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT ?? file.timeoutMs,
    resourceAttributes: { ...file.resourceAttributes, ...env.OTEL_RESOURCE_ATTRIBUTES },
  };
}
