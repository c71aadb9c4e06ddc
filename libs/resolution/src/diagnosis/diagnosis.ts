import type { Outcome, ReasonCode } from '@resolver/reasons';

/** The checklist, in the order it is reported. */
export const DIAGNOSIS_STEPS = [
  'format',
  'decrypt',
  'introspection',
  'decode',
  'issuer',
  'key',
  'signature',
  'time',
  'claims',
  'binding',
  'revocation',
  'subject',
  'tenant',
  'store',
  'user',
  'jit',
  'cache',
  'verdict',
] as const;

export type DiagnosisStepName = (typeof DIAGNOSIS_STEPS)[number];
export type DiagnosisStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** One checklist step: what was found and, for failures and warnings, what to do about it. */
export interface DiagnosisStep {
  readonly step: DiagnosisStepName;
  readonly title: string;
  readonly status: DiagnosisStatus;
  readonly finding: string;
  readonly fix?: string;
  /** True when the step worked on claims whose signature or validity was not established. */
  readonly unverified?: boolean;
  readonly details: Readonly<Record<string, unknown>>;
}

/** What ResolveSubject would answer now for this token. */
export interface DiagnosisVerdict {
  /** The reason code ResolveSubject would return, or `OK`. */
  readonly reason: ReasonCode | 'OK';
  readonly outcome: Outcome;
  readonly httpStatus: number;
  readonly title: string;
  /** For `OK`: where the answer would come from. */
  readonly source?: 'CACHE' | 'STORE' | 'PROVISIONED';
}

export interface Diagnosis {
  readonly diagnosedAt: Date;
  readonly verdict: DiagnosisVerdict;
  readonly steps: readonly DiagnosisStep[];
}

export const STEP_TITLES: Readonly<Record<DiagnosisStepName, string>> = {
  format: 'Token format',
  decrypt: 'Decryption',
  introspection: 'Introspection',
  decode: 'Decode',
  issuer: 'Issuer',
  key: 'Key and algorithm',
  signature: 'Signature',
  time: 'Time claims',
  claims: 'Audience and required claims',
  binding: 'Sender binding',
  revocation: 'Revocation',
  subject: 'Subject',
  tenant: 'Tenant and lookup key',
  store: 'User store',
  user: 'User',
  jit: 'Just-in-time provisioning',
  cache: 'Caches',
  verdict: 'Verdict',
};
