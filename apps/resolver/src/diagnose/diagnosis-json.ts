import type { Diagnosis } from '@resolver/resolution';
import type { DiagnoseSubjectResponse } from '@resolver/contract';

/** Diagnosis -> the JSON body of POST /v1/diagnose (times as RFC 3339). */
export function toDiagnosisJson(d: Diagnosis) {
  return { diagnosedAt: d.diagnosedAt.toISOString(), verdict: d.verdict, steps: d.steps };
}

/** Diagnosis -> identity.v1.DiagnoseSubjectResponse. */
export function toDiagnoseSubjectResponse(d: Diagnosis): DiagnoseSubjectResponse {
  const ms = d.diagnosedAt.getTime();
  return {
    verdict: d.verdict.reason,
    outcome: d.verdict.outcome,
    httpStatus: d.verdict.httpStatus,
    source: d.verdict.source ?? '',
    diagnosedAt: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
    steps: d.steps.map((s) => ({
      step: s.step,
      title: s.title,
      status: s.status,
      finding: s.finding,
      fix: s.fix ?? '',
      unverified: s.unverified === true,
      detailsJson: JSON.stringify(s.details),
    })),
  };
}
