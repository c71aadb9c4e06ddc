import { isResolutionError, type ReasonCode, type ResolutionError } from '@resolver/reasons';
import type { PipelineContext, PipelineEnv } from '../pipeline/context';
import type { Step } from '../pipeline/step';

/** What one pipeline step did in a diagnosis. */
export interface StepOutcome {
  /** The step's refusal; absent when it passed. */
  readonly error?: ResolutionError;
  /** The step worked on claims whose signature or validity was not established. */
  readonly unverified: boolean;
}

/**
 * Runs pipeline steps for the diagnosis and keeps each one's outcome under the step's own name.
 * The verdict is the first refusal of a step whose outcome ResolveSubject would act on
 * (`counts`), in the order the steps ran — the pipeline's order — so it is ResolveSubject's
 * answer by construction. Anything that is not a `ResolutionError` is a bug and propagates.
 */
export class StepRecorder {
  private readonly outcomes = new Map<string, StepOutcome>();
  private firstRefusal: ReasonCode | undefined;

  /** Runs `step`; true when it passed. */
  async run(
    step: Step,
    ctx: PipelineContext,
    env: PipelineEnv,
    options: { readonly counts: boolean; readonly unverified?: boolean },
  ): Promise<boolean> {
    const unverified = options.unverified ?? false;
    try {
      const pending = step.run(ctx, env);
      if (pending) await pending;
      this.outcomes.set(step.name, { unverified });
      return true;
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      this.fail(step.name, error, options.counts, unverified);
      return false;
    }
  }

  /** Records a refusal made outside {@link run} (the extract step, which starts the context). */
  fail(name: string, error: ResolutionError, counts: boolean, unverified = false): void {
    this.outcomes.set(name, { error, unverified });
    if (counts) this.firstRefusal ??= error.reason;
  }

  /** The outcome of a step by name; `undefined` when it did not run. */
  outcome(name: string): StepOutcome | undefined {
    return this.outcomes.get(name);
  }

  /** The refusal of a step by name, if it ran and refused. */
  error(name: string): ResolutionError | undefined {
    return this.outcomes.get(name)?.error;
  }

  get verdict(): ReasonCode | undefined {
    return this.firstRefusal;
  }
}
