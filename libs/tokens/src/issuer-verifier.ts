import {
  errors,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
  type KeyLike,
} from 'jose';
import type { IssuerConfig } from '@resolver/config';
import type { Clock } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import type { DecodedToken } from './compact-token';
import { reasonForJoseError } from './jose-errors';
import { selectKeys } from './key-selection';
import type { KeySource } from './key-source';
import type { VerifiedToken } from './verified-token';

/** At most this many candidate keys are tried for one token (keys without a `kid` match any). */
const MAX_CANDIDATES = 4;

/** Verifies tokens of one issuer with that issuer's keys and policy only. */
export class IssuerVerifier {
  private readonly imported = new WeakMap<JWK, Promise<KeyLike | Uint8Array>>();

  constructor(
    readonly config: IssuerConfig,
    readonly keys: KeySource,
    private readonly clock: Clock,
  ) {}

  async verify(token: string, decoded: DecodedToken): Promise<VerifiedToken> {
    const alg = decoded.header.alg as string;
    // Checked before any key is fetched: a disallowed algorithm (including "none") never
    // reaches the key source or the crypto.
    if (!(this.config.algorithms as readonly string[]).includes(alg)) {
      throw new ResolutionError(
        'ALGORITHM_NOT_ALLOWED',
        `${alg} is not allowed for ${this.config.issuer}`,
      );
    }
    const kid = decoded.header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length > 256)) {
      throw new ResolutionError(
        'TOKEN_MALFORMED',
        'header "kid" must be a string of at most 256 characters',
      );
    }
    if (decoded.signatureLength === 0)
      throw new ResolutionError('SIGNATURE_INVALID', 'empty signature');

    const candidates = selectKeys(await this.keys.keysFor(kid), alg, kid).slice(0, MAX_CANDIDATES);
    if (candidates.length === 0) {
      throw new ResolutionError(
        'SIGNING_KEY_NOT_FOUND',
        `no ${alg} key${kid ? ` with kid ${kid}` : ''}`,
      );
    }
    let lastError: unknown;
    for (const jwk of candidates) {
      let key: KeyLike | Uint8Array;
      try {
        key = await this.importKey(jwk, alg);
      } catch (error) {
        lastError = error;
        continue;
      }
      let verified: JWTVerifyResult;
      try {
        verified = await jwtVerify(token, key, {
          issuer: this.config.issuer,
          audience: [...this.config.audiences],
          algorithms: [...this.config.algorithms],
          clockTolerance: this.config.clockToleranceSeconds,
          requiredClaims: [...this.config.requiredClaims],
          currentDate: this.clock.now(),
          typ: this.config.typ,
          maxTokenAge: this.config.maxTokenAgeSeconds,
        });
      } catch (error) {
        lastError = error;
        // A claim error comes after the signature check: the payload is the issuer's, and a time
        // claim no date can hold is CLAIM_INVALID whatever else jose found (an `exp` of -1e308
        // is not "expired", it is not a time).
        const payload = (error as { payload?: unknown }).payload;
        const claimError =
          error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired;
        if (claimError && isObject(payload))
          checkTimeClaims(payload, this.clock.now(), this.config.clockToleranceSeconds);
        // Only a signature mismatch says another candidate key might work.
        if (reasonForJoseError(error) !== 'SIGNATURE_INVALID') break;
        continue;
      }
      checkTimeClaims(verified.payload, this.clock.now(), this.config.clockToleranceSeconds);
      return toVerifiedToken(this.config, verified.protectedHeader, verified.payload);
    }
    const reason = reasonForJoseError(lastError);
    throw new ResolutionError(
      reason,
      `jose: ${(lastError as Error)?.message ?? 'verification failed'}`,
      {
        cause: lastError,
      },
    );
  }

  private importKey(jwk: JWK, alg: string): Promise<KeyLike | Uint8Array> {
    let key = this.imported.get(jwk);
    if (!key) {
      key = importJWK({ ...jwk, alg }, alg);
      // A key that fails to import must not stay cached as a rejected promise forever.
      key.catch(() => this.imported.delete(jwk));
      this.imported.set(jwk, key);
    }
    return key;
  }
}

/**
 * The range of times every answer can carry: `google.protobuf.Timestamp` and RFC 3339 both stop
 * at 0001-01-01 and 9999-12-31 (a JavaScript Date reaches further, so the narrower range rules).
 */
export const MIN_TIME_SECONDS = -62_135_596_800;
export const MAX_TIME_SECONDS = 253_402_300_799;

function isObject(value: unknown): value is JWTPayload {
  return typeof value === 'object' && value !== null;
}

/**
 * What jose v5 leaves out: `iat` in the future is only checked with `maxTokenAge`, a time claim
 * of `1e400` parses to `Infinity` (a number), and `1e308` is finite but no date. All are
 * CLAIM_INVALID, decided here, during verification, before any side effect: a token issued in
 * the future, valid forever or at a time no answer can express is not one the issuer meant.
 */
function checkTimeClaims(payload: JWTPayload, now: Date, toleranceSeconds: number): void {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value: unknown = payload[claim];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ResolutionError('CLAIM_INVALID', `"${claim}" claim must be a finite number`);
    }
    if (value < MIN_TIME_SECONDS || value > MAX_TIME_SECONDS) {
      throw new ResolutionError(
        'CLAIM_INVALID',
        `"${claim}" claim is outside the range of dates (years 1 to 9999)`,
      );
    }
  }
  if (
    payload.iat !== undefined &&
    payload.iat > Math.floor(now.getTime() / 1000) + toleranceSeconds
  ) {
    throw new ResolutionError('CLAIM_INVALID', '"iat" claim is in the future');
  }
}

function toVerifiedToken(
  issuer: IssuerConfig,
  header: Record<string, unknown>,
  payload: JWTPayload,
): VerifiedToken {
  const aud =
    payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const seconds = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) ? new Date(v * 1000) : undefined;
  const scope = (payload as Record<string, unknown>).scope;
  const scp = (payload as Record<string, unknown>).scp;
  const scopes =
    typeof scope === 'string'
      ? scope.split(' ').filter(Boolean)
      : Array.isArray(scp)
        ? scp.filter((s): s is string => typeof s === 'string')
        : [];
  return {
    issuer,
    header,
    claims: payload,
    subject: (payload as Record<string, unknown>)[issuer.subject.claim],
    audience: aud.filter((a): a is string => typeof a === 'string'),
    expiresAt: seconds(payload.exp),
    issuedAt: seconds(payload.iat),
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    scopes,
  };
}
