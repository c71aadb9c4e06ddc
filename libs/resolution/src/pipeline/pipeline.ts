import type { UserRecord } from '@resolver/identity';
import type { CachedToken } from '../cache/subject-caches';
import type { PipelineContext, PipelineEnv } from './context';
import { binding } from './binding-step';
import type { Step } from './step';
import {
  algorithm,
  claims,
  decode,
  decrypt,
  format,
  issuer,
  keys,
  opaque,
  pasetoDecode,
  pasetoKey,
  pasetoSignature,
  rememberToken,
  signature,
  signaturePresent,
  subject,
  tenant,
  timeClaimsAreDates,
  timeWindow,
} from './token-steps';
import { jit, kind, lookup, revocation, signedOut, status } from './user-steps';

/**
 * The resolution pipeline, declared once: every step after the request's token is extracted and
 * the verified-token cache is asked (`extract`, `tokenCache`), in order, each with what the
 * runners need to know about it (its stage, its part in verification, what it depends on,
 * whether it applies, whether it asks the store: see {@link Step}). ResolveSubject runs it
 * fail-fast ({@link runPipeline}); DiagnoseSubject runs the same list step by step; the warm
 * path asks the steps' own {@link Step.check}s ({@link WARM_CHECKS}). A new step is added here,
 * and only here.
 */
export const PIPELINE: readonly Step[] = [
  // The token: its format (by shape), then its decoding, issuer, key and signature, claims, and
  // the lookup key they give; a format's own steps run only for it (their `when`).
  format,
  opaque,
  decrypt,
  decode,
  pasetoDecode,
  issuer,
  algorithm,
  signaturePresent,
  keys,
  signature,
  pasetoKey,
  pasetoSignature,
  timeClaimsAreDates,
  claims,
  timeWindow,
  subject,
  tenant,
  rememberToken,
  // The request: the token's sender binding, checked on every request, cached token or not.
  binding,
  // The user: revocation, the store (or the caches), JIT, and the decisions about the user.
  revocation,
  lookup,
  jit,
  kind,
  signedOut,
  status,
];

/** The decisions the warm path makes about a cached token and its cached user, in order. */
export const WARM_CHECKS: readonly NonNullable<Step['check']>[] = PIPELINE.flatMap((s) =>
  s.check ? [s.check] : [],
);

/** The warm path's decisions: the same kind, sign-out and status checks as the steps make. */
export function checkWarm(token: CachedToken, user: UserRecord): void {
  for (const check of WARM_CHECKS) check(token, user);
}

/**
 * Runs the pipeline fail-fast: the token steps only when the verified-token cache did not answer,
 * each step only where it applies; a step that completes synchronously costs no await.
 */
export async function runPipeline(ctx: PipelineContext, env: PipelineEnv): Promise<void> {
  for (const step of PIPELINE) {
    if (ctx.cached && step.stage === 'token') continue;
    if (step.when && !step.when(ctx)) continue;
    const pending = step.run(ctx, env);
    if (pending) await pending;
  }
}
