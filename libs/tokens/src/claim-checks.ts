import type { IssuerConfig } from '@resolver/config';
import { ResolutionError, type ReasonCode } from '@resolver/reasons';
import { own } from './compact-token';

/**
 * The claim checks of verification, as three steps that run after the signature in this order:
 * {@link checkTimeClaimsAreDates}, {@link checkClaims}, {@link checkTimeWindow}. They are the
 * resolver's own code, not jose's `jwtVerify`, so that each pipeline step decides its own
 * outcome and the diagnosis knows which step failed from the step that threw. The rules and
 * their order are jose v5's (`jwt_claims_set`), with the date-range rule in front, so the
 * reason a token gets is the one it got when jose checked the claims.
 */

/**
 * The range of times every answer can carry: `google.protobuf.Timestamp` and RFC 3339 both stop
 * at 0001-01-01 and 9999-12-31 (a JavaScript Date reaches further, so the narrower range rules).
 */
export const MIN_TIME_SECONDS = -62_135_596_800;
export const MAX_TIME_SECONDS = 253_402_300_799;

type Payload = Readonly<Record<string, unknown>>;

function refuse(reason: ReasonCode, message: string): never {
  throw new ResolutionError(reason, message);
}

/** Whole seconds since the epoch, as NumericDate comparisons use them. */
function epochSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

/**
 * Time step, part one: `exp`, `nbf` and `iat` are dates. A time claim that is not a finite
 * number, lies outside years 1–9999 (`1e308` is finite but no date; `1e400` parses to
 * `Infinity`), or an `iat` in the future is CLAIM_INVALID — before any other claim is looked at,
 * because a token valid forever or issued later than now is not one the issuer meant.
 */
export function checkTimeClaimsAreDates(payload: Payload, now: Date, toleranceSeconds: number) {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = own(payload, claim);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      refuse('CLAIM_INVALID', `"${claim}" claim must be a finite number`);
    if (value < MIN_TIME_SECONDS || value > MAX_TIME_SECONDS)
      refuse('CLAIM_INVALID', `"${claim}" claim is outside the range of dates (years 1 to 9999)`);
  }
  const iat = payload.iat;
  if (typeof iat === 'number' && iat > epochSeconds(now) + toleranceSeconds)
    refuse('CLAIM_INVALID', '"iat" claim is in the future');
}

/** `typ` values compare without case and without an `application/` prefix (RFC 8725 §3.11). */
function normalizeTyp(value: string): string {
  return value.toLowerCase().replace(/^application\//, '');
}

/**
 * The reason a claim's failure gets (its absence, or a value jose refused): the claims with
 * reasons of their own keep them, every other claim is CLAIM_INVALID.
 */
export function reasonForClaim(claim: string): ReasonCode {
  switch (claim) {
    case 'aud':
      return 'AUDIENCE_MISMATCH';
    case 'iss':
      return 'ISSUER_UNKNOWN';
    case 'sub':
      return 'SUBJECT_MISSING';
    default:
      return 'CLAIM_INVALID';
  }
}

/**
 * Claims step: the `typ` header, the required claims' presence, `iss` and the audience. The
 * issuer's subject claim is not among the required claims (config removes it): the subject step
 * decides its absence with its own reasons.
 */
export function checkClaims(
  policy: Pick<
    IssuerConfig,
    'issuer' | 'audiences' | 'requiredClaims' | 'typ' | 'maxTokenAgeSeconds'
  >,
  header: Payload,
  payload: Payload,
): void {
  const typ = policy.typ;
  if (typ && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(typ)))
    refuse('CLAIM_INVALID', 'unexpected "typ" header value');
  // jose's order: the issuer, the audience, `iat` when a maximum age is set, then the
  // configured claims from last to first.
  const required = [...policy.requiredClaims];
  if (policy.maxTokenAgeSeconds !== undefined) required.push('iat');
  required.push('aud', 'iss');
  for (const claim of new Set(required.reverse())) {
    // `in`, as jose has it: the claim's value (even null) is judged by the later checks.
    if (!(claim in payload)) refuse(reasonForClaim(claim), `missing required "${claim}" claim`);
  }
  if (payload.iss !== policy.issuer) refuse('ISSUER_UNKNOWN', 'unexpected "iss" claim value');
  const aud = payload.aud;
  const accepted = policy.audiences;
  const matches =
    typeof aud === 'string'
      ? accepted.includes(aud)
      : Array.isArray(aud) && aud.some((a) => accepted.includes(a as string));
  if (!matches) refuse('AUDIENCE_MISMATCH', 'unexpected "aud" claim value');
}

/**
 * Time step, part two: the validity window. `nbf` after now (plus tolerance) is
 * TOKEN_NOT_YET_VALID; `exp` at or before now (minus tolerance) is TOKEN_EXPIRED, and so is an
 * `iat` older than `maxTokenAgeSeconds`. In the pipeline it runs after
 * {@link checkTimeClaimsAreDates}, so every time claim present is a number.
 */
export function checkTimeWindow(
  policy: Pick<IssuerConfig, 'clockToleranceSeconds' | 'maxTokenAgeSeconds'>,
  payload: Payload,
  now: Date,
): void {
  const nowSeconds = epochSeconds(now);
  const tolerance = policy.clockToleranceSeconds;
  // Only numbers are compared: the diagnosis runs this step on claims the dates step refused,
  // and comparing an object whose `toString` is not a function throws.
  const { nbf, exp, iat } = payload;
  if (typeof nbf === 'number' && nbf > nowSeconds + tolerance)
    refuse('TOKEN_NOT_YET_VALID', '"nbf" claim timestamp check failed');
  if (typeof exp === 'number' && exp <= nowSeconds - tolerance)
    refuse('TOKEN_EXPIRED', '"exp" claim timestamp check failed');
  const maxAge = policy.maxTokenAgeSeconds;
  if (maxAge && typeof iat === 'number' && nowSeconds - iat - tolerance > maxAge)
    refuse('TOKEN_EXPIRED', '"iat" claim timestamp check failed (too far in the past)');
}
