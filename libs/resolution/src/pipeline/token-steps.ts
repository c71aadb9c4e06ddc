import { hash as digest } from 'node:crypto';
import { ResolutionError } from '@resolver/reasons';
import { classifyTokenFormat, parsePasetoV4Public, pasetoClaimsAsJwt } from '@resolver/tokens';
import { MAX_SESSION_ID_LENGTH } from '@resolver/policy';
import { extractCredential } from '../bearer';
import { bindingOf } from './binding-step';
import { introspectOpaque } from './introspection-step';
import { type CachedToken, userCacheKey } from '../cache/subject-caches';
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
    ctx.cached = unexpired(env.caches.getToken(ctx.hash), env.nowMs());
    ctx.token = ctx.cached;
  },
} as const satisfies Step;

/**
 * A cached token while its `exp` has not passed (the entry's own deadline is capped, not always
 * `exp`): what the verified-token cache answers, here and in the warm answer's own lookup.
 */
export function unexpired(token: CachedToken | undefined, nowMs: number): CachedToken | undefined {
  return token?.expiresAtMs !== undefined && token.expiresAtMs <= nowMs ? undefined : token;
}

/**
 * Format: what the token is, by its shape alone (JWS, JWE, PASETO v4.public, or opaque); a
 * PASETO version or purpose other than v4.public is refused here. A cheap string test, and only
 * for a token the verified-token cache did not answer.
 */
export const format = defineStep(
  'format',
  'format',
  (ctx) => {
    ctx.format = classifyTokenFormat(ctx.raw);
  },
  { stage: 'token', stopsDiagnosis: true },
);

/**
 * Opaque tokens: a token that is no JWS, JWE or PASETO. This is where an opaque token reaches
 * the issuer that introspects it (RFC 7662); with none configured it is refused, as any token
 * of no known shape always was. A step that answers for it sets `ctx.issuer` and `ctx.decoded`
 * (the introspection answer's claims): the JWS, JWE and PASETO steps do not run for it, the
 * claim, time, subject and tenant steps do.
 */
export const opaque = defineStep('opaque', 'introspection', introspectOpaque, {
  stage: 'token',
  stopsDiagnosis: true,
  when: (ctx) => ctx.format === 'opaque',
});

/** The steps that read a JWS: the token itself, or the JWS a JWE carries. */
export function isJws(ctx: PipelineContext): boolean {
  return ctx.format === 'jws' || (ctx.format === 'jwe' && ctx.nested !== undefined);
}

/**
 * Decrypt (JWE only): the protected header's `kid` names the decryption key and so the issuer;
 * its allow-lists are checked before the key is used; the payload must be a nested JWS (or,
 * where the issuer allows it, a claims set). Nothing decrypted is kept unless it all passed.
 */
export const decrypt = defineStep(
  'decrypt',
  'decrypt',
  async (ctx, env) => {
    const route = env.verifier.jwe.route(ctx.raw);
    ctx.jwe = route;
    const payload = await env.verifier.jwe.decrypt(ctx.raw, route);
    if (payload.kind === 'jws') ctx.nested = payload.token;
    else
      ctx.decoded = {
        header: route.header,
        payload: payload.claims,
        sizeBytes: Buffer.byteLength(ctx.raw, 'utf8'),
        signatureLength: 0,
      };
  },
  { stage: 'token', stopsDiagnosis: true, when: (ctx) => ctx.format === 'jwe' },
);

/** Decode: three base64url segments of strict JSON, nothing trusted yet. */
export const decode = defineStep(
  'decode',
  'decode',
  (ctx, env) => {
    ctx.decoded = env.verifier.decode(ctx.nested ?? ctx.raw);
  },
  { stage: 'token', stopsDiagnosis: true, when: isJws },
);

const isPaseto = (ctx: PipelineContext) => ctx.format === 'paseto';

/**
 * Decode (PASETO v4.public): the message, signature and footer, strict JSON claims, and the
 * claims in the JWT shape the later steps read (RFC 3339 times as seconds); nothing trusted yet.
 */
export const pasetoDecode = defineStep(
  'pasetoDecode',
  'decode',
  (ctx) => {
    const token = parsePasetoV4Public(ctx.raw);
    ctx.paseto = { token };
    ctx.decoded = {
      header: { alg: 'v4.public', ...(token.kid !== undefined ? { kid: token.kid } : {}) },
      payload: pasetoClaimsAsJwt(token.claims),
      sizeBytes: Buffer.byteLength(ctx.raw, 'utf8'),
      signatureLength: token.signature.length,
    };
  },
  { stage: 'token', stopsDiagnosis: true, when: isPaseto },
);

/** Issuer: the configured issuer named by the unverified `iss`, before any key is fetched. */
export const issuer = defineStep(
  'issuer',
  'issuer',
  (ctx, env) => {
    const issuer = env.verifier.select(required(ctx.decoded));
    // A JWE belongs to the issuer whose key decrypted it: a JWT of another issuer inside is not
    // that issuer's token, whoever signed it.
    if (ctx.jwe && issuer.config.issuer !== ctx.jwe.issuer)
      throw new ResolutionError(
        'CLAIM_INVALID',
        'the nested JWT\'s "iss" is not the issuer whose key decrypted it',
      );
    ctx.issuer = issuer;
  },
  // An opaque token's issuer is the one its introspection was routed to.
  { stage: 'token', stopsDiagnosis: true, when: (ctx) => ctx.format !== 'opaque' },
);

/** Key and algorithm, part one: alg allowed, kid well-formed, a signature to check. */
export const algorithm = defineStep(
  'algorithm',
  'key',
  (ctx) => {
    required(ctx.issuer).checkAlgorithm(required(ctx.decoded));
  },
  { stage: 'token', verifies: 'signature', when: isJws },
);

/** Signature, part one: there is one to check (before any key is fetched). */
export const signaturePresent = defineStep(
  'signaturePresent',
  'signature',
  (ctx) => {
    required(ctx.issuer).checkSignaturePresent(required(ctx.decoded));
  },
  { stage: 'token', verifies: 'signature', after: ['algorithm'], when: isJws },
);

/** Key and algorithm, part two: the issuer's keys that may have signed it. */
export const keys = defineStep(
  'keys',
  'key',
  (ctx) => {
    ctx.phase = 'keys';
    const candidates = required(ctx.issuer).candidateKeys(required(ctx.decoded));
    // A promise only while the key source is asked (held keys are answered at once).
    if (!(candidates instanceof Promise)) {
      ctx.candidates = candidates;
      return;
    }
    return candidates.then((found) => {
      ctx.candidates = found;
    });
  },
  // The keys are looked up even without a signature: the diagnosis shows what would match.
  { stage: 'token', verifies: 'signature', after: ['algorithm'], when: isJws },
);

/** Signature: one candidate key verifies it. */
export const signature = defineStep(
  'signature',
  'signature',
  (ctx) => {
    required(ctx.issuer).checkSignature(
      ctx.nested ?? ctx.raw,
      required(ctx.decoded),
      required(ctx.candidates),
    );
  },
  { stage: 'token', verifies: 'signature', after: ['signaturePresent', 'keys'], when: isJws },
);

/**
 * Key (PASETO): the issuer accepts v4.public at all, the footer is within its bound, and its
 * `kid` names one of the issuer's keys.
 */
export const pasetoKey = defineStep(
  'pasetoKey',
  'key',
  (ctx) => {
    const issuer = required(ctx.issuer);
    const paseto = required(ctx.paseto);
    if (!issuer.paseto)
      throw new ResolutionError(
        'ALGORITHM_NOT_ALLOWED',
        `PASETO v4.public is not accepted for ${issuer.config.issuer} (no paseto keys)`,
      );
    paseto.candidates = issuer.paseto.candidates(paseto.token, issuer.config.issuer);
  },
  { stage: 'token', verifies: 'signature', when: isPaseto },
);

/** Signature (PASETO): Ed25519 over PAE(header, message, footer, implicit assertion). */
export const pasetoSignature = defineStep(
  'pasetoSignature',
  'signature',
  (ctx) => {
    const paseto = required(ctx.paseto);
    required(required(ctx.issuer).paseto).checkSignature(paseto.token, required(paseto.candidates));
  },
  { stage: 'token', verifies: 'signature', after: ['pasetoKey'], when: isPaseto },
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
      format: required(ctx.format),
      key,
      userKey: userCacheKey(key),
      info: tokenInfo(verified, key.subject),
      issuedAtMs: verified.issuedAt?.getTime(),
      expiresAtMs: verified.expiresAt?.getTime(),
      // An introspected token is cached no longer than its answer: min(exp, cacheCapSeconds).
      cacheUntilMs: ctx.introspected?.freshUntilMs,
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
