import type { IssuerConfig } from '@resolver/config';
import {
  type LookupKey,
  MAX_JTI_LENGTH,
  type NewUser,
  unstorableText,
  type UserRecord,
} from '@resolver/identity';
import { provisioningInput, revokedSessionOf } from '@resolver/policy';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import type { CachedToken } from '../cache/subject-caches';
import { assertUsable } from '../user-status';
import {
  issuerPolicy,
  type PipelineCaches,
  type PipelineContext,
  type PipelineEnv,
} from './context';
import { defineStep, required, type Step } from './step';

/**
 * True when the in-memory deny-list is trusted and does not list the token's `jti`: the
 * revocation step's answer without waiting on anything (the warm path asks only this).
 */
export function jtiClearInMemory(caches: PipelineCaches, token: CachedToken): boolean {
  const jti = revocableJti(token);
  return !jti || caches.isRevoked(token.issuer, jti) === false;
}

/**
 * The token's `jti` when the deny-list could hold it. One it could not (longer than an operator
 * may revoke, U+0000, a lone surrogate) is on no deny-list: the store is not asked a question it
 * cannot answer (which would read as an outage).
 */
function revocableJti(token: CachedToken): string | undefined {
  const jti = token.info.jti;
  return jti && jti.length <= MAX_JTI_LENGTH && !unstorableText(jti) ? jti : undefined;
}

/**
 * Revocation by `jti`: the in-memory deny-list, else the store; in outage mode the deny-list as
 * last known (within the staleness bound), else the store's error. TOKEN_REVOKED.
 */
export const revocation = defineStep(
  'revocation',
  'revocation',
  // No promise when the in-memory deny-list answers (nearly always): the store only otherwise.
  (ctx, env) => {
    ctx.phase = 'store';
    const token = required(ctx.token);
    const jti = revocableJti(token);
    if (!jti) return;
    const known = env.caches.isRevoked(token.issuer, jti);
    if (known !== undefined) return refuseRevoked(known);
    return env
      .isRevoked(token.issuer, jti)
      .catch((error: unknown) => {
        const stale = env.caches.staleRevoked(token.issuer, jti);
        if (stale === undefined) throw error;
        return stale;
      })
      .then(refuseRevoked);
  },
  // The user steps need the token (cached, or built by rememberToken from its claims).
  { stage: 'user', store: true, when: (ctx) => ctx.token !== undefined },
);

/**
 * Store lookup: the user cache, the negative cache, then the store, whose answer (found or not)
 * is cached. A store that cannot answer is USER_STORE_UNAVAILABLE — never "not found" — except in
 * outage mode, where the user known a moment before the store went away answers (source CACHE).
 */
export const lookup = defineStep(
  'lookup',
  'user',
  // No promise when the caches answer: the store only otherwise.
  (ctx, env) => {
    const { key, userKey } = required(ctx.token);
    const cachedUser = ctx.userCacheAsked ? undefined : env.caches.getUser(userKey);
    if (cachedUser) {
      ctx.user = cachedUser;
      ctx.source = 'CACHE';
      return;
    }
    if (env.caches.isKnownMissing(userKey)) {
      ctx.user = null;
      ctx.source = 'CACHE';
      return;
    }
    return lookUpInStore(ctx, env, key, userKey);
  },
  { stage: 'user', store: true, when: (ctx) => ctx.token !== undefined },
);

/** The lookup step's store call: its answer, or in outage mode the user known a moment before. */
async function lookUpInStore(
  ctx: PipelineContext,
  env: PipelineEnv,
  key: LookupKey,
  userKey: string,
): Promise<void> {
  try {
    ctx.user = await env.findUser(key, userKey, ctx.storeDeadlineAt);
    ctx.source = 'STORE';
  } catch (error) {
    const stale = storeCannotAnswer(error) ? env.caches.staleUser(userKey) : undefined;
    if (!stale) throw error;
    ctx.user = stale;
    ctx.source = 'CACHE';
  }
}

/** The revocation step's decision, once the deny-list (or the store) answered. */
function refuseRevoked(revoked: boolean): void {
  if (revoked) throw new ResolutionError('TOKEN_REVOKED', 'token jti is on the deny-list');
}

/** The store could not answer (down, or too busy to hand out a connection): not a "no". */
function storeCannotAnswer(error: unknown): boolean {
  return (
    isResolutionError(error) &&
    (error.reason === 'USER_STORE_UNAVAILABLE' || error.reason === 'USER_STORE_OVERLOADED')
  );
}

/** The issuer's JIT policy for a kind of principal. */
export function jitAllowed(policy: IssuerConfig | undefined, kind: LookupKey['kind']): boolean {
  return kind === 'service' ? policy?.serviceAccounts?.jit === true : policy?.jit.enabled === true;
}

/**
 * JIT: a user the store does not have is USER_NOT_FOUND unless the issuer provisions that kind
 * of principal; then the verified claims must carry what provisioning needs and the store must
 * accept the user (PROVISIONING_REJECTED otherwise: a live user holds its email or username).
 * The live environment coalesces concurrent first requests of one subject into one store call
 * (and counts its outcome once); the peek-only one makes the same checks in a rolled-back
 * transaction.
 */
export const jit = defineStep(
  'jit',
  'jit',
  async (ctx, env) => {
    const token = required(ctx.token);
    if (!jitAllowed(issuerPolicy(env, token.issuer), token.key.kind))
      throw new ResolutionError(
        'USER_NOT_FOUND',
        `no ${token.key.kind} for this subject and JIT is off`,
      );
    // JIT needs the claims: a cached token (rare here: it was answered before) is verified again.
    if (!ctx.verified) {
      ctx.phase = 'keys';
      ctx.verified = await env.verifier.verify(ctx.raw);
      ctx.phase = 'store';
    }
    const verified = ctx.verified;
    let input: NewUser;
    try {
      input = provisioningInput(token.key, verified.claims, verified.issuer.jit);
    } catch (error) {
      env.countJit(verified.issuer.issuer, 'rejected');
      throw error;
    }
    const provisioned = await env.provision(token.key, token.userKey, input, ctx.storeDeadlineAt);
    env.caches.putUser(token.userKey, provisioned.user);
    ctx.user = provisioned.user;
    ctx.source = 'PROVISIONED';
  },
  { stage: 'user', store: true, when: (ctx) => ctx.user === null },
);

/** Kind: the principal found is of the token's kind (a person's token never a service's). */
export function checkKind(token: Pick<CachedToken, 'key'>, user: UserRecord): void {
  if (user.kind !== token.key.kind) {
    throw new ResolutionError(
      'USER_NOT_FOUND',
      `the subject maps to a ${user.kind}, the token is a ${token.key.kind} token`,
    );
  }
}

/**
 * Sign-out everywhere: a token issued before the user's `tokens_valid_after` is revoked; and a
 * session a shared signal revoked (CAEP `session-revoked`): that session's tokens issued before
 * the event, or a token with no `sid` issued before it (it may be that session's).
 */
export function checkSignedOut(token: CachedToken, user: UserRecord): void {
  if (
    user.tokensValidAfter &&
    (token.issuedAtMs === undefined || token.issuedAtMs < user.tokensValidAfter.getTime())
  ) {
    throw new ResolutionError(
      'TOKEN_REVOKED',
      'token issued before the user signed out everywhere',
    );
  }
  if (user.signals && revokedSessionOf(user.signals, token.sessionId, token.issuedAtMs))
    throw new ResolutionError('TOKEN_REVOKED', 'token of a session revoked by a shared signal');
}

/**
 * A decision about the user found, which needs nothing else: a step of the pipeline, and what the
 * warm path asks of a cached token and user without building a context (`WARM_CHECKS`).
 */
function userCheck(
  name: string,
  reports: Step['reports'],
  check: (token: CachedToken, user: UserRecord) => void,
): Step {
  return defineStep(
    name,
    reports,
    (ctx) => check(required(ctx.token), required(ctx.user ?? undefined)),
    {
      stage: 'user',
      when: (ctx) => !!ctx.user,
      check,
    },
  );
}

export const kind = userCheck('kind', 'user', checkKind);
export const signedOut = userCheck('signedOut', 'revocation', checkSignedOut);
/** Status: deleted, disabled and locked users are refused with their own reasons. */
export const status = userCheck('status', 'user', (_token, user) => assertUsable(user));
