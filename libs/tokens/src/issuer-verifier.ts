import { compactVerify, importJWK, type JWK, type KeyLike } from 'jose';
import type { IssuerConfig } from '@resolver/config';
import type { Clock } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { type DecodedToken, own } from './compact-token';
import {
  checkClaims,
  checkTimeClaimsAreDates,
  checkTimeWindow,
  MAX_TIME_SECONDS,
  MIN_TIME_SECONDS,
} from './claim-checks';
import { reasonForJoseError } from './jose-errors';
import { selectKeys } from './key-selection';
import type { KeySource } from './key-source';
import type { VerifiedToken } from './verified-token';

/** At most this many candidate keys are tried for one token (keys without a `kid` match any). */
const MAX_CANDIDATES = 4;

/**
 * Verifies tokens of one issuer with that issuer's keys and policy only. Verification is a
 * sequence of steps, each its own method so the pipeline (and the diagnosis, which runs the same
 * steps) knows from the step itself which one refused a token: {@link checkAlgorithm},
 * {@link checkSignaturePresent}, {@link candidateKeys}, {@link checkSignature}, {@link checkTimeClaimsAreDates},
 * {@link checkClaims}, {@link checkTimeWindow}; {@link verify} runs them all.
 */
export class IssuerVerifier {
  private readonly imported = new WeakMap<JWK, Promise<KeyLike | Uint8Array>>();

  constructor(
    readonly config: IssuerConfig,
    readonly keys: KeySource,
    private readonly clock: Clock,
  ) {}

  /** Every step in order; the verified token, or a {@link ResolutionError}. */
  async verify(token: string, decoded: DecodedToken): Promise<VerifiedToken> {
    this.checkAlgorithm(decoded);
    this.checkSignaturePresent(decoded);
    const candidates = await this.candidateKeys(decoded);
    await this.checkSignature(token, decoded, candidates);
    const now = this.clock.now();
    this.checkTimeClaimsAreDates(decoded, now);
    this.checkClaims(decoded);
    this.checkTimeWindow(decoded, now);
    return this.verifiedToken(decoded);
  }

  /**
   * Key step, part one, before any key is fetched: a disallowed algorithm (including "none")
   * never reaches the key source or the crypto; nor does a malformed `kid`.
   */
  checkAlgorithm(decoded: DecodedToken): void {
    const alg = decoded.header.alg as string;
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
  }

  /** Signature step, part one, still before any key is fetched: there is a signature. */
  checkSignaturePresent(decoded: DecodedToken): void {
    if (decoded.signatureLength === 0)
      throw new ResolutionError('SIGNATURE_INVALID', 'empty signature');
  }

  /**
   * Key step, part two: the issuer's keys that may have signed the token (by `kid` and
   * algorithm), at most {@link MAX_CANDIDATES}. SIGNING_KEY_NOT_FOUND when none does;
   * KEYS_UNAVAILABLE from the key source when the keys cannot be had.
   */
  async candidateKeys(decoded: DecodedToken): Promise<readonly JWK[]> {
    const alg = decoded.header.alg as string;
    const kid = decoded.header.kid as string | undefined;
    const candidates = selectKeys(await this.keys.keysFor(kid), alg, kid).slice(0, MAX_CANDIDATES);
    if (candidates.length === 0) {
      throw new ResolutionError(
        'SIGNING_KEY_NOT_FOUND',
        `no ${alg} key${kid ? ` with kid ${kid}` : ''}`,
      );
    }
    return candidates;
  }

  /**
   * Signature step: one of the candidate keys verifies the signature. Only a signature mismatch
   * says another candidate might work; a key that cannot be used for the algorithm is skipped.
   */
  async checkSignature(
    token: string,
    decoded: DecodedToken,
    candidates: readonly JWK[],
  ): Promise<void> {
    const alg = decoded.header.alg as string;
    let lastError: unknown;
    for (const jwk of candidates) {
      let key: KeyLike | Uint8Array;
      try {
        key = await this.importKey(jwk, alg);
      } catch (error) {
        lastError = error;
        continue;
      }
      try {
        await compactVerify(token, key, { algorithms: [...this.config.algorithms] });
        return;
      } catch (error) {
        lastError = error;
        if (reasonForJoseError(error) !== 'SIGNATURE_INVALID') break;
      }
    }
    throw new ResolutionError(
      reasonForJoseError(lastError),
      describeVerificationFailure(lastError),
      { cause: lastError },
    );
  }

  /** Time step, part one (see {@link checkTimeClaimsAreDates} in claim-checks). */
  checkTimeClaimsAreDates(decoded: DecodedToken, now = this.clock.now()): void {
    checkTimeClaimsAreDates(decoded.payload, now, this.config.clockToleranceSeconds);
  }

  /** Claims step: `typ`, required claims, `iss`, audience. */
  checkClaims(decoded: DecodedToken): void {
    checkClaims(this.config, decoded.header, decoded.payload);
  }

  /** Time step, part two: `nbf`, `exp`, maximum age. */
  checkTimeWindow(decoded: DecodedToken, now = this.clock.now()): void {
    checkTimeWindow(this.config, decoded.payload, now);
  }

  /** The token as the rest of the pipeline sees it, once every step passed. */
  verifiedToken(decoded: DecodedToken): VerifiedToken {
    return toVerifiedToken(this.config, decoded.header, decoded.payload);
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
 * What an operator reads when the signature cannot be verified: the resolver's own words, never
 * the crypto library's name or internals.
 */
function describeVerificationFailure(error: unknown): string {
  const reason = reasonForJoseError(error);
  if (reason === 'SIGNATURE_INVALID') return 'signature verification failed';
  if (reason === 'SIGNING_KEY_NOT_FOUND')
    return 'no trusted key can verify a token of this algorithm';
  return `the token cannot be verified: ${error instanceof Error ? error.message : 'unknown failure'}`;
}

function toVerifiedToken(
  issuer: IssuerConfig,
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
): VerifiedToken {
  const aud =
    payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  // Range-checked: the diagnosis also builds this view of claims that were never verified.
  const seconds = (v: unknown) =>
    typeof v === 'number' && v >= MIN_TIME_SECONDS && v <= MAX_TIME_SECONDS
      ? new Date(v * 1000)
      : undefined;
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
    subject: own(payload, issuer.subject.claim),
    audience: aud.filter((a): a is string => typeof a === 'string'),
    expiresAt: seconds(payload.exp),
    issuedAt: seconds(payload.iat),
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    scopes,
  };
}
