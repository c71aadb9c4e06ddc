import { z } from 'zod';
import { LOG_LEVELS } from './algorithms';
import { tracingEnvShape } from './tracing.schema';

/** The environment the resolver reads; every other module gets typed config instead. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * A `postgres://` URL that can work: parsable, naming a host (or a socket directory in `?host=`),
 * with a valid port. Checked at boot so the pool does not retry an address that never works.
 * The messages never echo the value: it holds the password.
 */
export const postgresUrl = z.string().superRefine((value, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!/^postgres(ql)?:\/\//.test(value))
    return fail('must be a postgres:// (or postgresql://) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not a parsable URL (check the escaping of the password)');
  }
  if (!url.hostname && !url.searchParams.get('host'))
    return fail('names no host (postgres://user:password@host:5432/db)');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535))
    fail('port must be 1-65535');
});

/** Set but empty means unset, as a shell's `FOO= cmd` does. */
const set = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const port = set(
  z
    .string()
    .regex(/^\d+$/, 'must be a port number (0-65535)')
    .pipe(z.coerce.number<string>().max(65535, 'must be a port number (0-65535)')),
);

const WORKERS = { error: 'must be a whole number 0..256 or "auto"' };

/**
 * The environment overrides, by variable name. Each one wins over its YAML field; unknown
 * variables are ignored. Secrets the YAML names by variable (HMAC secrets, admin and SCIM tokens)
 * are read later, by `resolveSecrets`.
 */
export const envOverlaySchema = z.object({
  // Set but empty is a mistake (a missing secret), not a request for embedded mode: that would
  // quietly start a throwaway database in production.
  DATABASE_URL: z
    .string()
    .refine(
      (v) => v.trim() !== '',
      'is set but empty; unset it for embedded mode, or give a postgres:// URL',
    )
    .pipe(postgresUrl)
    .optional(),
  HTTP_PORT: port,
  GRPC_PORT: port,
  EMBEDDED_PG_PORT: port,
  BIND_ADDRESS: set(z.string()),
  DATA_DIR: set(z.string()),
  MIGRATIONS_RUN: set(
    z.stringbool({
      truthy: ['1', 'true', 'yes'],
      falsy: ['0', 'false', 'no'],
      error: 'must be true or false',
    }),
  ),
  LOG_LEVEL: set(
    z
      .string()
      .toLowerCase()
      .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  ),
  /** A count, or 0 / `auto` for one per core. */
  WORKERS: set(
    z.union(
      [
        z.literal('auto').transform(() => 0),
        z.coerce.number(WORKERS).int(WORKERS).min(0, WORKERS).max(256, WORKERS),
      ],
      WORKERS,
    ),
  ),
  /** Where the CLI finds the admin API. */
  RESOLVER_URL: set(
    z
      .string()
      .regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL')
      .transform((url) => url.replace(/\/+$/, '')),
  ),
  ADMIN_TOKEN_FILE: set(z.string()),
  /** The standard OpenTelemetry variables (docs/tracing.md). */
  ...tracingEnvShape,
});

/** Variables whose bad values are quoted back in the message: none of them can hold a secret. */
export const ECHOED_VARIABLES: ReadonlySet<string> = new Set([
  'HTTP_PORT',
  'GRPC_PORT',
  'EMBEDDED_PG_PORT',
  'MIGRATIONS_RUN',
  'LOG_LEVEL',
  'WORKERS',
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
]);
