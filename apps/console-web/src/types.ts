/** The admin API's and /v1/diagnose's JSON, as the console reads it. */

export interface User {
  readonly id: string;
  readonly tenantId: string;
  /** The issuer whose identifiers email and username are, or '' (the operator's). */
  readonly namespace: string;
  readonly kind: string;
  readonly email: string | null;
  readonly username: string | null;
  readonly displayName: string | null;
  readonly roles: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: 'active' | 'disabled' | 'locked';
  /** Which writer disabled or locked it (operator, import, scim, signals). */
  readonly statusDecisions: Readonly<Record<string, string>>;
  readonly deletedAt: string | null;
  readonly tokensValidAfter: string | null;
  readonly provenance: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface UserPage {
  readonly users: readonly User[];
  readonly nextCursor?: string | null;
}

export interface Identity {
  readonly id: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly subject: string;
  readonly createdAt: string;
}

export type StepStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface NearMiss {
  readonly kind: string;
  readonly finding: string;
  readonly fix: string;
  readonly user: {
    readonly id: string;
    readonly email: string | null;
    readonly username: string | null;
  };
}

export interface DiagnosisStep {
  readonly step: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly finding: string;
  readonly fix?: string;
  readonly unverified?: boolean;
  readonly details: Readonly<Record<string, unknown>> & { nearMisses?: readonly NearMiss[] };
}

export interface Diagnosis {
  readonly diagnosedAt: string;
  readonly verdict: {
    readonly reason: string;
    readonly outcome: string;
    readonly httpStatus: number;
    readonly title: string;
    readonly source?: string;
  };
  readonly steps: readonly DiagnosisStep[];
}

/** GET /console/api/reasons: how each reason is presented on every surface. */
export type ReasonTable = Readonly<
  Record<
    string,
    {
      readonly outcome: string;
      readonly httpStatus: number;
      readonly grpcStatus: { readonly code: number; readonly name: string };
      readonly title: string;
    }
  >
>;

export interface Overview {
  readonly recent: {
    readonly bucketSeconds: number;
    readonly windowSeconds: number;
    readonly reasons: readonly { readonly reason: string; readonly outcome: string }[];
    readonly buckets: readonly {
      readonly start: string;
      readonly resolved: number;
      readonly byReason: Readonly<Record<string, number>>;
    }[];
  };
  readonly pool: { readonly inUse: number; readonly idle: number; readonly waiting: number } | null;
  /** Shared Signals transmitters' streams (absent from servers without the receiver). */
  readonly streams?: readonly SsfStream[];
}

/** One Shared Signals transmitter's stream, as the overview reports it. */
export interface SsfStream {
  readonly transmitter: string;
  readonly issuer: string;
  readonly delivery: readonly string[];
  readonly status: 'enabled' | 'paused' | 'disabled' | 'unknown';
  readonly statusReason: string | null;
  readonly lastEventAt: string | null;
  readonly verifiedAt: string | null;
  readonly silenceAlertSeconds?: number;
}

/** GET /health/ready (Terminus): per-indicator details. */
export interface Readiness {
  readonly status: string;
  readonly details?: Readonly<
    Record<string, Readonly<Record<string, unknown>> & { status: string }>
  >;
}
