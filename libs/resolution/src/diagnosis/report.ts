import type { ResolverConfig } from '@resolver/config';
import type { NearMiss, NewUser, UserRecord } from '@resolver/identity';
import type { ReasonCode, ResolutionError } from '@resolver/reasons';
import type { KeySourceState } from '@resolver/tokens';
import type { CachedToken } from '../cache/subject-caches';
import type { PipelineContext } from '../pipeline/context';
import {
  DIAGNOSIS_STEPS,
  type DiagnosisStatus,
  type DiagnosisStep,
  type DiagnosisStepName,
  STEP_TITLES,
} from './diagnosis';
import { humanTime } from './human-time';
import type { StepRecorder } from './step-recorder';

/** What the diagnosis looked at besides the steps' outcomes: facts for the report, no decisions. */
export interface Observations {
  configuredIssuers?: string[];
  keyState?: KeySourceState;
  availableKeyIds?: string[];
  candidateKeyIds?: string[];
  keysError?: string;
  store?: { readonly up: boolean; readonly latencyMs: number; readonly reason?: ReasonCode };
  /** The store's own answer for the report's key (`undefined`: not asked or not answered). */
  storeUser?: UserRecord | null;
  cachedToken?: CachedToken;
  cachedUser?: UserRecord;
  knownMissing?: boolean;
  cacheSizes?: Record<string, number>;
  coherent?: boolean;
  nearMisses?: readonly NearMiss[];
  nearMissError?: string;
  scim?: { readonly text: string; readonly details: Record<string, unknown> };
  jtiRevoked?: boolean;
  /** The store's user refused by the status step's rule (what the user step shows). */
  storeUserBarred?: ReasonCode;
  /** The store's user refused by the kind step's rule: a person for a service token, or back. */
  storeUserWrongKind?: boolean;
  /** What JIT would create from these claims, or why the claims cannot make a user. */
  jitInput?: NewUser;
  jitInputError?: ResolutionError;
}

/** Everything the operator text is written from. */
export interface ReportInput {
  readonly now: Date;
  readonly config: ResolverConfig;
  readonly ctx: PipelineContext | undefined;
  readonly steps: StepRecorder;
  readonly seen: Observations;
}

/** The checklist being written: one entry per step, reported in checklist order. */
export class Report {
  private readonly entries = new Map<DiagnosisStepName, DiagnosisStep>();

  set(
    step: DiagnosisStepName,
    status: DiagnosisStatus,
    finding: string,
    details: Record<string, unknown> = {},
    extra: { fix?: string; unverified?: boolean } = {},
  ): void {
    this.entries.set(step, {
      step,
      title: STEP_TITLES[step],
      status,
      finding,
      ...(extra.fix ? { fix: extra.fix } : {}),
      ...(extra.unverified ? { unverified: true } : {}),
      details,
    });
  }

  /** The checklist; steps nobody wrote were not reached. */
  steps(): DiagnosisStep[] {
    return DIAGNOSIS_STEPS.map(
      (name) =>
        this.entries.get(name) ?? {
          step: name,
          title: STEP_TITLES[name],
          status: 'skip' as const,
          finding: 'not reached: an earlier step failed',
          details: {},
        },
    );
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A user as the report shows it. */
export function summary(u: UserRecord, now: Date) {
  return {
    id: u.id,
    tenant: u.tenant,
    kind: u.kind,
    email: u.email,
    username: u.username,
    status: u.status,
    deletedAt: u.deletedAt ? humanTime(u.deletedAt, now) : null,
    tokensValidAfter: u.tokensValidAfter ? humanTime(u.tokensValidAfter, now) : null,
    provenance: u.provenance,
    createdAt: humanTime(u.createdAt, now),
    updatedAt: humanTime(u.updatedAt, now),
  };
}
