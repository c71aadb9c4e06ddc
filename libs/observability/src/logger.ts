import { createHash } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LoggingConfig } from '@resolver/config';
import { isReasonCode, presentReason } from '@resolver/reasons';
import type { ErrorSurface, Transport } from './transport';

/**
 * Field names that may hold credentials. They are censored wherever they appear (one level
 * deep) as a second line of defence: the resolver's own code never passes a token to the logger.
 */
const REDACTED_PATHS = [
  'token',
  'authorization',
  'password',
  'secret',
  '*.token',
  '*.authorization',
  '*.password',
  '*.secret',
  'req.headers.authorization',
  'headers.authorization',
];

/**
 * The process logger: one JSON object per line (pino) at the configured level, with ISO
 * timestamps and level names; human-readable through pino-pretty when `pretty` is on (embedded
 * mode) and pino-pretty is installed (it is a dev dependency; production images log JSON).
 */
export function createLogger(config: LoggingConfig, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.level,
    base: { service: 'subject-resolver', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return pino(options, destination ?? defaultDestination(config.pretty));
}

function defaultDestination(pretty: boolean): DestinationStream {
  if (pretty) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pinoPretty = require('pino-pretty') as (o: object) => DestinationStream;
      return pinoPretty({
        sync: true,
        colorize: process.stdout.isTTY,
        ignore: 'pid,hostname,service,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
      });
    } catch {
      // Not installed (production image): plain JSON is still correct output.
    }
  }
  return pino.destination({ dest: 1, sync: true });
}

/** sha256 of a subject, 16 hex characters: correlates log lines without naming the person. */
export function hashSubject(subject: string): string {
  return `sha256:${createHash('sha256').update(subject, 'utf8').digest('hex').slice(0, 16)}`;
}

/** One failed resolution, as logged. */
export interface ResolutionFailureEntry {
  readonly requestId: string;
  /**
   * The W3C trace id of the request: its span's when tracing is on, else the caller's
   * `traceparent`'s, if it sent a valid one. A refusal is found from either id.
   */
  readonly traceId?: string;
  readonly transport: Transport;
  readonly issuer: string;
  readonly reason: string;
  readonly latencyMs: number;
  /** The normalised subject, when the token got that far; hashed unless `logSubjects`. */
  readonly subject?: string;
  /** Our own explanation (never contains the token). */
  readonly detail: string;
  /** What a gateway said about the original request (bounded by the caller). */
  readonly context?: Readonly<Record<string, string>>;
}

/** One change made through the admin API / CLI, as logged. */
export interface AdminChangeEntry {
  readonly requestId?: string;
  /** Who made the change (admin principal or `cli`). */
  readonly actor: string;
  /** What was done, e.g. `user.disable`, `user.delete`, `token.revoke`, `identity.link`. */
  readonly action: string;
  readonly userId?: string;
  readonly issuer?: string;
  readonly subject?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** One received Security Event Token: never its body, only what identifies it. */
export interface SignalEntry {
  readonly transmitter: string;
  /** The event type's short name, or `unknown`. */
  readonly event: string;
  /** `applied`, `duplicate`, …, or the RFC 8935 error code. */
  readonly result: string;
  readonly jti?: string;
  readonly userId?: string;
  /** The subject identifiers the event named, hashed like every logged subject. */
  readonly subjects?: readonly string[];
  readonly description?: string;
}

/**
 * The resolver's structured log lines. Every line that names a subject goes through here, so
 * the hashing rule lives in one place; nothing here accepts a token.
 */
export class ResolverLogger {
  constructor(
    readonly pino: Logger,
    private readonly options: Pick<LoggingConfig, 'logSubjects'>,
  ) {}

  /** A subject as it may appear in a log line. */
  subject(subject: string | undefined): string | undefined {
    if (subject === undefined) return undefined;
    return this.options.logSubjects ? subject : hashSubject(subject);
  }

  /** One line per failed resolution (warn; error for a dependency being unavailable). */
  resolutionFailure(entry: ResolutionFailureEntry): void {
    const unavailable =
      isReasonCode(entry.reason) && presentReason(entry.reason).outcome === 'unavailable';
    this.pino[unavailable ? 'error' : 'warn'](
      {
        event: 'resolution_failed',
        requestId: entry.requestId,
        traceId: entry.traceId,
        transport: entry.transport,
        issuer: entry.issuer,
        reason: entry.reason,
        latencyMs: Math.round(entry.latencyMs * 100) / 100,
        subject: this.subject(entry.subject),
        detail: entry.detail,
        context: entry.context,
      },
      `resolution failed: ${entry.reason}`,
    );
  }

  /** An unexpected failure (a bug): the stack, never the request's token. */
  internalError(entry: { requestId?: string; transport: ErrorSurface; error: unknown }): void {
    const error = entry.error;
    this.pino.error(
      {
        event: 'internal_error',
        requestId: entry.requestId,
        transport: entry.transport,
        err: error instanceof Error ? { type: error.name, stack: error.stack } : String(error),
      },
      'unexpected failure',
    );
  }

  /** One line per received SET (push or poll). */
  logSignal(entry: SignalEntry): void {
    this.pino[entry.result === 'applied' || entry.result === 'recorded' ? 'info' : 'warn'](
      {
        event: 'ssf_event',
        transmitter: entry.transmitter,
        eventType: entry.event,
        result: entry.result,
        jti: entry.jti,
        userId: entry.userId,
        subjects: entry.subjects?.map((s) => this.subject(s)),
        description: entry.description,
      },
      `shared signal ${entry.event} from ${entry.transmitter}: ${entry.result}`,
    );
  }

  /** One line per admin change (admin API, CLI). */
  logAdminChange(change: AdminChangeEntry): void {
    this.pino.info(
      {
        event: 'admin_change',
        requestId: change.requestId,
        actor: change.actor,
        action: change.action,
        userId: change.userId,
        issuer: change.issuer,
        subject: this.subject(change.subject),
        detail: change.detail,
      },
      `admin change: ${change.action}`,
    );
  }
}

/** Routes Nest's own logs (bootstrap, routes, exception filters) into the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  /** Nest calls `error(message, context?)` or `error(message, stack, context)`. */
  error(message: unknown, ...rest: unknown[]): void {
    const [first, second] = rest;
    if (rest.length >= 2) {
      const context = typeof second === 'string' ? second : undefined;
      const stack = typeof first === 'string' ? first : undefined;
      this.logger.error({ context, stack }, stringify(message));
      return;
    }
    this.write('error', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    if (message instanceof Error)
      this.logger[level](
        { context, err: { type: message.name, stack: message.stack } },
        message.message,
      );
    else this.logger[level]({ context }, stringify(message));
  }
}

function stringify(message: unknown): string {
  return typeof message === 'string' ? message : JSON.stringify(message);
}
