import { hash as digest } from 'node:crypto';
import { MAX_SESSION_ID_LENGTH } from '@resolver/policy';
import { extractCredential } from '../bearer';
import { bindingOf } from './binding-step';
import { userCacheKey } from '../cache/subject-caches';
import type { TokenInfo } from '../resolution';
import { lookupKeyOf, subjectFor } from '../subject-key';
import type { PipelineContext, PipelineEnv } from './context';
import { defineStep, required, type Step } from './step';

/** The verified-token cache key of a compact token. */
export function tokenHash(raw: string): string {
  return digest('sha256', raw, 'base64url');
}

/**
 * Extract: the token from the request field or the `Authorization: Bearer` (or `DPoP`) header,
 * bounded in size (TOKEN_MISSING, TOKEN_MALFORMED, TOKEN_TOO_LARGE). Starts the context.
 */
export function extract(
  token: unknown,
  authorization: string | undefined,
  env: Pick<PipelineEnv, 'maxTokenBytes'>,
): PipelineContext {
  const { token: raw, scheme } = extractCredential(token, authorization, env.maxTokenBytes);
  return { raw, hash: tokenHash(raw), phase: 'request', scheme };
}

/**
 * Verified-token cache: an entry answers for the token until its `exp` (capped), so the token
 * steps are not run. The clock tolerance never extends an entry past `exp`.
 */
export const tokenCache = {
  name: 'tokenCache',
  reports: 'cache',
  stage: 'token',
  // Synchronous by type: the warm path calls it directly, with no await.
  run(ctx: PipelineContext, env: PipelineEnv): void {
    const token = env.caches.getToken(ctx.hash);
    ctx.cached =
      token?.expiresAtMs !== undefined && token.expiresAtMs <= env.nowMs() ? undefined : token;
    ctx.token = ctx.cached;
  },
} as const satisfies Step;

/** Decode: three base64url segments of strict JSON, nothing trusted yet. */
export const decode = defineStep(
  'decode',
  'decode',
  (ctx, env) => {
    ctx.decoded = env.verifier.decode(ctx.raw);
  },
  { stage: 'token', stopsDiagnosis: true },
);

/** Issuer: the configured issuer named by the unverified `iss`, before any key is fetched. */
export const issuer = defineStep(
  'issuer',
  'issuer',
  (ctx, env) => {
    ctx.issuer = env.verifier.select(required(ctx.decoded));
  },
  { stage: 'token', stopsDiagnosis: true },
);

/** Key and algorithm, part one: alg allowed, kid well-formed, a signature to check. */
export const algorithm = defineStep(
  'algorithm',
  'key',
  (ctx) => {
    required(ctx.issuer).checkAlgorithm(required(ctx.decoded));
  },
  { stage: 'token', verifies: 'signature' },
);

/** Signature, part one: there is one to check (before any key is fetched). */
export const signaturePresent = defineStep(
  'signaturePresent',
  'signature',
  (ctx) => {
    required(ctx.issuer).checkSignaturePresent(required(ctx.decoded));
  },
  { stage: 'token', verifies: 'signature', after: ['algorithm'] },
);

/** Key and algorithm, part two: the issuer's keys that may have signed it. */
export const keys = defineStep(
  'keys',
  'key',
  async (ctx) => {
    ctx.phase = 'keys';
    ctx.candidates = await required(ctx.issuer).candidateKeys(required(ctx.decoded));
  },
  // The keys are looked up even without a signature: the diagnosis shows what would match.
  { stage: 'token', verifies: 'signature', after: ['algorithm'] },
);

/** Signature: one candidate key verifies it. */
export const signature = defineStep(
  'signature',
  'signature',
  async (ctx) => {
    await required(ctx.issuer).checkSignature(
      ctx.raw,
      required(ctx.decoded),
      required(ctx.candidates),
    );
  },
  { stage: 'token', verifies: 'signature', after: ['signaturePresent', 'keys'] },
);

/** Time claims, part one: every time claim is a date, and `iat` is not in the future. */
export const timeClaimsAreDates = defineStep(
  'timeClaimsAreDates',
  'time',
  (ctx, env) => {
    required(ctx.issuer).checkTimeClaimsAreDates(required(ctx.decoded), new Date(env.nowMs()));
  },
  { stage: 'token', verifies: 'claims' },
);

/** Audience and required claims: `typ`, presence, `iss`, `aud`. */
export const claims = defineStep(
  'claims',
  'claims',
  (ctx) => {
    required(ctx.issuer).checkClaims(required(ctx.decoded));
  },
  { stage: 'token', verifies: 'claims' },
);

/** Time claims, part two: `nbf`, `exp`, maximum age. */
export const timeWindow = defineStep(
  'timeWindow',
  'time',
  (ctx, env) => {
    required(ctx.issuer).checkTimeWindow(required(ctx.decoded), new Date(env.nowMs()));
  },
  { stage: 'token', verifies: 'claims' },
);

/** Subject: the issuer's subject (or service-account client id) claim, validated. */
export const subject = defineStep(
  'subject',
  'subject',
  (ctx) => {
    ctx.subject = subjectFor(required(ctx.issuer).config, required(ctx.decoded).payload);
  },
  { stage: 'token' },
);

/** Tenant and lookup key: the tenant claim, validated, and the key the store is searched by. */
export const tenant = defineStep(
  'tenant',
  'tenant',
  (ctx) => {
    ctx.key = lookupKeyOf(
      required(ctx.issuer).config,
      required(ctx.decoded).payload,
      required(ctx.subject),
    );
  },
  { stage: 'token', after: ['subject'] },
);

/**
 * Every token step passed: the token is verified, becomes the pipeline's token, and is cached
 * for the next request.
 */
export const rememberToken = defineStep(
  'rememberToken',
  'cache',
  (ctx, env) => {
    const verified = required(ctx.issuer).verifiedToken(required(ctx.decoded));
    const key = required(ctx.key);
    ctx.verified = verified;
    ctx.token = {
      issuer: verified.issuer.issuer,
      key,
      userKey: userCacheKey(key),
      info: tokenInfo(verified, key.subject),
      issuedAtMs: verified.issuedAt?.getTime(),
      expiresAtMs: verified.expiresAt?.getTime(),
      sessionId: sessionIdOf(verified.claims),
      binding: bindingOf(verified.claims, verified.issuer.binding),
    };
    env.caches.putToken(ctx.hash, ctx.token);
  },
  // A diagnosis of an unverified token still builds the key its user steps look at; a token the
  // cache answered keeps the cache's entry as the pipeline's token (a diagnosis runs the token
  // steps of a cached token too, to report them, and must not replace it).
  { stage: 'token', when: (ctx) => ctx.key !== undefined && !ctx.cached },
);

/** The token's `sid` claim when it is one a session revocation can name. */
function sessionIdOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const sid = Object.hasOwn(claims, 'sid') ? claims.sid : undefined;
  return typeof sid === 'string' && sid !== '' && sid.length <= MAX_SESSION_ID_LENGTH
    ? sid
    : undefined;
}

function tokenInfo(
  token: NonNullable<PipelineContext['verified']>,
  subjectValue: string,
): TokenInfo {
  return {
    issuer: token.issuer.issuer,
    subject: subjectValue,
    audience: token.audience,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    jti: token.jti ?? '',
    scopes: token.scopes,
  };
}
