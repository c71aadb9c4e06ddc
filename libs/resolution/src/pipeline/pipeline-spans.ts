import {
  type Attributes,
  errorType,
  failSpan,
  SpanKind,
  STEP_SPAN_PREFIX,
  TRACE_ATTRIBUTES,
  type Tracing,
} from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import type { UserRecord } from '@resolver/identity';
import { context, trace } from '@opentelemetry/api';
import type { CachedToken } from '../cache/subject-caches';
import type { PipelineContext, PipelineEnv } from './context';
import { PIPELINE } from './pipeline';
import type { Step } from './step';

/** A failure as span attributes: its reason code, or the class of an unexpected error. */
export function describeFailure(error: unknown): Attributes {
  return isResolutionError(error) ? { [TRACE_ATTRIBUTES.reason]: error.reason } : errorType(error);
}

/** The steps whose `check` the warm path runs, in order. */
const WARM_STEPS: readonly Step[] = PIPELINE.filter((s) => s.check);

/**
 * The pipeline with one span per step that runs (`resolver.step.<name>`, a child of the
 * request's span), for a resolver with tracing on; the untraced runner is `runPipeline`,
 * unchanged. A span carries the step's name and stage and, when the step refuses, the reason
 * code with the error status: nothing from the token, its claims or the user.
 */
export class PipelineSpans {
  constructor(private readonly tracing: Tracing) {}

  /** A synchronous step (extract, the token cache, a warm check) in its span. */
  sync<T>(name: string, stage: Step['stage'] | 'request', fn: () => T): T {
    const span = this.start(name, stage);
    try {
      return fn();
    } catch (error) {
      failSpan(span, describeFailure(error));
      throw error;
    } finally {
      span.end();
    }
  }

  /** The warm path's checks of a cached token and user, each in its step's span. */
  warm(token: CachedToken, user: UserRecord): void {
    for (const step of WARM_STEPS) {
      const check = step.check as NonNullable<Step['check']>;
      this.sync(step.name, step.stage, () => check(token, user));
    }
  }

  /** `runPipeline`, each step that runs in its span; what a step awaits runs in that span. */
  async run(ctx: PipelineContext, env: PipelineEnv): Promise<void> {
    for (const step of PIPELINE) {
      if (ctx.cached && step.stage === 'token') continue;
      if (step.when && !step.when(ctx)) continue;
      const span = this.start(step.name, step.stage);
      try {
        const pending = context.with(trace.setSpan(context.active(), span), () =>
          step.run(ctx, env),
        );
        if (pending) await pending;
      } catch (error) {
        failSpan(span, describeFailure(error));
        throw error;
      } finally {
        span.end();
      }
    }
  }

  /**
   * A step of a diagnosis in its span: the diagnosis records a refusal and goes on, so the
   * step's reason is read from the recorder once it has run.
   */
  async diagnosed(
    step: Step,
    run: () => Promise<boolean>,
    reason: () => string | undefined,
  ): Promise<boolean> {
    const span = this.start(step.name, step.stage);
    try {
      const ok = await context.with(trace.setSpan(context.active(), span), run);
      const refused = ok ? undefined : reason();
      if (refused) failSpan(span, { [TRACE_ATTRIBUTES.reason]: refused });
      return ok;
    } catch (error) {
      failSpan(span, describeFailure(error));
      throw error;
    } finally {
      span.end();
    }
  }

  /** A store call the request makes, as a client span of the step that makes it. */
  store<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.tracing.within(
      `resolver.store.${operation}`,
      SpanKind.CLIENT,
      { 'db.system.name': 'postgresql', 'db.operation.name': operation },
      fn,
      describeFailure,
    );
  }

  /** The request's answer on its span (the transport's server span): where it came from. */
  answered(source: string): void {
    trace.getActiveSpan()?.setAttribute(TRACE_ATTRIBUTES.source, source);
  }

  /** The request's refusal on its span: the reason code. */
  refused(reason: string): void {
    trace.getActiveSpan()?.setAttribute(TRACE_ATTRIBUTES.reason, reason);
  }

  private start(name: string, stage: Step['stage'] | 'request') {
    return (this.tracing.tracer as NonNullable<Tracing['tracer']>).startSpan(
      `${STEP_SPAN_PREFIX}${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [TRACE_ATTRIBUTES.step]: name, [TRACE_ATTRIBUTES.stage]: stage },
      },
      context.active(),
    );
  }
}
