import type { UserRecord } from '@resolver/identity';
import type { CachedToken } from '../cache/subject-caches';
import type { DiagnosisStepName } from '../diagnosis/diagnosis';
import type { PipelineContext, PipelineEnv } from './context';

/**
 * One named step of the pipeline: it reads the context, makes one decision (throwing a
 * `ResolutionError` with the reason when the answer is no) and adds what it found. `reports` is
 * the diagnosis checklist entry the step's outcome belongs to. The rest is what the two runners
 * (ResolveSubject fail-fast, DiagnoseSubject step by step) need to know about it, declared here
 * once instead of written into each runner.
 */
export interface Step {
  readonly name: string;
  readonly reports: DiagnosisStepName;
  run(ctx: PipelineContext, env: PipelineEnv): void | Promise<void>;
  /**
   * `token` steps are skipped for a token the verified-token cache answers; `request` steps
   * (the sender binding, checked against each request) and `user` steps never.
   */
  readonly stage: 'token' | 'request' | 'user';
  /**
   * Part of verification: `signature` steps establish who signed the claims, `claims` steps
   * check them. A diagnosis goes on past a refusal here, marking what later steps find as read
   * from unverified claims.
   */
  readonly verifies?: 'signature' | 'claims';
  /** A diagnosis stops at this step's refusal: there is nothing later steps could look at. */
  readonly stopsDiagnosis?: boolean;
  /**
   * The steps that must have passed for this one to run. Resolve is fail-fast, so every earlier
   * step passed; a diagnosis, which goes on past refusals, skips the step otherwise.
   */
  readonly after?: readonly string[];
  /** Whether the step applies to this context at all (JIT only for a user the store lacks). */
  when?(ctx: PipelineContext): boolean;
  /** It asks the store (a diagnosis pings the store once, before the first such step). */
  readonly store?: boolean;
  /**
   * The step's whole decision when it concerns only a token and the user found: what the warm
   * path asks of a cached token and cached user, with no context and no await.
   */
  readonly check?: (token: CachedToken, user: UserRecord) => void;
}

type StepOptions = Omit<Step, 'name' | 'reports' | 'run'>;

export function defineStep(
  name: string,
  reports: DiagnosisStepName,
  run: Step['run'],
  options: StepOptions,
): Step {
  return { name, reports, run, ...options };
}

/**
 * What an earlier step must have put in the context. A step run out of order is a bug in the
 * runner, not a token's fault, so it is a plain Error (counted as an internal error).
 */
export function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('pipeline step run before the step it depends on');
  return value;
}
