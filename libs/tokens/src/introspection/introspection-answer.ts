import type { IssuerConfig } from '@resolver/config';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { reasonForClaim } from '../claim-checks';
import { checkJsonStructure, own, ownData } from '../compact-token';

/** An introspection endpoint's answer about one token, once read (RFC 7662 §2.2). */
export type IntrospectionVerdict =
  | { readonly active: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly active: false };

/**
 * Why the endpoint gave no usable answer: an outage of the issuer, never the caller's fault.
 * The message names the endpoint's behaviour only (never the token).
 */
export function unavailable(message: string): ResolutionError {
  return new ResolutionError('INTROSPECTION_UNAVAILABLE', message);
}

/**
 * Reads an answer's body as RFC 7662 says it is: one JSON object, `active` a boolean. The JSON
 * is checked for structure first (no duplicate member names, bounded depth), then its objects
 * are made null-prototype (`ownData`), so `__proto__` or `constructor` in it stay plain data and
 * nothing the endpoint did not send reads through to `Object.prototype`. Anything else (not
 * JSON, not an object, `active` missing or `"true"`) is a failing endpoint:
 * INTROSPECTION_UNAVAILABLE, never a "no" and never a "yes".
 */
export function readIntrospectionAnswer(text: string): IntrospectionVerdict {
  let value: unknown;
  try {
    checkJsonStructure(text, 'introspection answer');
    value = JSON.parse(text);
  } catch (error) {
    if (isResolutionError(error)) throw unavailable(error.message);
    throw unavailable('introspection answer is not JSON');
  }
  return verdictOf(value);
}

/** An answer object (parsed JSON, or a signed answer's `token_introspection`), as RFC 7662 says. */
export function verdictOf(value: unknown): IntrospectionVerdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw unavailable('introspection answer is not a JSON object');
  const claims = ownData(value) as Record<string, unknown>;
  const active = own(claims, 'active');
  if (active === false) return { active: false };
  if (active !== true)
    throw unavailable('introspection answer has no boolean "active" member (RFC 7662 §2.2)');
  return { active: true, claims };
}

/** The scopes of an answer: RFC 7662's space-separated `scope` string. */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = own(claims, 'scope');
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/**
 * The claims step for an introspected token, as for a JWT but for what an introspection answer
 * is: no header (`typ` does not apply); `iss` optional (RFC 7662), but when present it must be
 * the issuer whose endpoint answered; the issuer's required claims and `aud` present, `aud` an
 * accepted audience; `scope`, when present, a string, and every scope the issuer's
 * introspection section requires in it. Checked on every answer, cached or not, so a scope an
 * answer lacks is never served from a cache.
 */
export function checkIntrospectedClaims(
  policy: Pick<
    IssuerConfig,
    'issuer' | 'audiences' | 'requiredClaims' | 'maxTokenAgeSeconds' | 'introspection'
  >,
  claims: Readonly<Record<string, unknown>>,
): void {
  const iss = own(claims, 'iss');
  if (iss !== undefined && iss !== policy.issuer)
    throw new ResolutionError('ISSUER_UNKNOWN', 'introspection answer names another "iss"');
  const required = [...policy.requiredClaims];
  if (policy.maxTokenAgeSeconds !== undefined) required.push('iat');
  required.push('aud');
  for (const claim of new Set(required.reverse())) {
    if (own(claims, claim) === undefined)
      throw new ResolutionError(reasonForClaim(claim), `missing required "${claim}" claim`);
  }
  const aud = own(claims, 'aud');
  const accepted = policy.audiences;
  const matches =
    typeof aud === 'string'
      ? accepted.includes(aud)
      : Array.isArray(aud) && aud.some((a) => accepted.includes(a as string));
  if (!matches) throw new ResolutionError('AUDIENCE_MISMATCH', 'unexpected "aud" claim value');
  const scope = own(claims, 'scope');
  if (scope !== undefined && typeof scope !== 'string')
    throw new ResolutionError('CLAIM_INVALID', '"scope" must be a space-separated string');
  const requiredScopes = policy.introspection?.requiredScopes ?? [];
  if (requiredScopes.length > 0) {
    const granted = new Set(scopesOf(claims));
    const missing = requiredScopes.filter((s) => !granted.has(s));
    if (missing.length > 0)
      throw new ResolutionError(
        'CLAIM_INVALID',
        `token lacks the required scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`,
      );
  }
}
