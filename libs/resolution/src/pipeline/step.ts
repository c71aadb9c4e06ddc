import type { DiagnosisStepName } from '../diagnosis/diagnosis';
import type { PipelineContext, PipelineEnv } from './context';

/**
 * One named step of the pipeline: it reads the context, makes one decision (throwing a
 * `ResolutionError` with the reason when the answer is no) and adds what it found. `reports` is
 * the diagnosis checklist entry the step's outcome belongs to.
 */
export interface Step {
  readonly name: string;
  readonly reports: DiagnosisStepName;
  run(ctx: PipelineContext, env: PipelineEnv): void | Promise<void>;
}

export function defineStep(name: string, reports: DiagnosisStepName, run: Step['run']): Step {
  return { name, reports, run };
}

/**
 * What an earlier step must have put in the context. A step run out of order is a bug in the
 * runner, not a token's fault, so it is a plain Error (counted as an internal error).
 */
export function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('pipeline step run before the step it depends on');
  return value;
}

/** Runs steps in order, fail-fast; a step that completes synchronously costs no await. */
export async function runSteps(
  steps: readonly Step[],
  ctx: PipelineContext,
  env: PipelineEnv,
): Promise<void> {
  for (const step of steps) {
    const pending = step.run(ctx, env);
    if (pending) await pending;
  }
}
