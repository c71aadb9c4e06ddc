import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Algorithm, IssuerConfig } from '@resolver/config';
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
import type { PasetoVerifier } from './formats/paseto';
import { checkIntrospectedClaims } from './introspection/introspection-answer';
import { selectKeys } from './key-selection';
import type { KeySource } from './key-source';
import { keyFits, keyObjectFor, SIGNATURE_SCHEMES, verifySignature } from './signature';
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
  /**
   * Each trusted key as a `KeyObject` (or null: it cannot be one), made on first use. Keyed by
   * the key source's own JWK objects, never by anything from a token: a rotated key set brings
   * new objects, and the old entries go with the old objects.
   */
  private readonly keyObjects = new WeakMap<JWK, KeyObject | null>();

  constructor(
    readonly config: IssuerConfig,
    readonly keys: KeySource,
    private readonly clock: Clock,
    /** Its PASETO v4.public keys, when it issues PASETO tokens. */
    readonly paseto?: PasetoVerifier,
  ) {}

  /** Every step in order; the verified token, or a {@link ResolutionError}. */
  async verify(token: string, decoded: DecodedToken): Promise<VerifiedToken> {
    this.checkAlgorithm(decoded);
    this.checkSignaturePresent(decoded);
    const candidates = await this.candidateKeys(decoded);
    this.checkSignature(token, decoded, candidates);
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
  // A promise only when the key source has to be asked (a fetch to wait for): held keys are
  // answered synchronously, so a new token's key step costs no promise.
  candidateKeys(decoded: DecodedToken): readonly JWK[] | Promise<readonly JWK[]> {
    const kid = decoded.header.kid as string | undefined;
    const held = this.keys.heldKeys(kid);
    if (held) return this.candidatesAmong(held, decoded);
    return this.keys.keysFor(kid).then((keys) => this.candidatesAmong(keys, decoded));
  }

  private candidatesAmong(keys: readonly JWK[], decoded: DecodedToken): readonly JWK[] {
    const alg = decoded.header.alg as string;
    const kid = decoded.header.kid as string | undefined;
    const candidates = selectKeys(keys, alg, kid).slice(0, MAX_CANDIDATES);
    if (candidates.length === 0) {
      throw new ResolutionError(
        'SIGNING_KEY_NOT_FOUND',
        `no ${alg} key${kid ? ` with kid ${kid}` : ''}`,
      );
    }
    return candidates;
  }

  /**
   * Signature step: one of the candidate keys verifies the signature, checked with `node:crypto`
   * (signature.ts). A key that cannot verify this algorithm (wrong type or curve, RSA under 2048
   * bits, a JWK that is no key) is skipped; SIGNATURE_INVALID when some usable key was tried,
   * SIGNING_KEY_NOT_FOUND when none was. The signature segment is decoded as jose decodes it;
   * the decode step has already refused every segment that is not canonical base64url.
   */
  // Synchronous (node:crypto's one-shot verify on cached KeyObjects): the pipeline's signature
  // step costs no promise.
  checkSignature(token: string, decoded: DecodedToken, candidates: readonly JWK[]): void {
    // The pipeline ran it already; again here, the step stands on its own (nothing but a
    // configured algorithm, each of which has a scheme, reaches the crypto).
    this.checkAlgorithm(decoded);
    const scheme = SIGNATURE_SCHEMES[decoded.header.alg as Algorithm];
    const dot = token.lastIndexOf('.');
    const signingInput = Buffer.from(token.slice(0, dot));
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    let triedAKey = false;
    for (const jwk of candidates) {
      const key = this.keyObject(jwk);
      if (!key || !keyFits(scheme, key)) continue;
      if (verifySignature(scheme, key, signingInput, signature)) return;
      triedAKey = true;
    }
    throw triedAKey
      ? new ResolutionError('SIGNATURE_INVALID', 'signature verification failed')
      : new ResolutionError(
          'SIGNING_KEY_NOT_FOUND',
          'no trusted key can verify a token of this algorithm',
        );
  }

  /** Time step, part one (see {@link checkTimeClaimsAreDates} in claim-checks). */
  checkTimeClaimsAreDates(decoded: DecodedToken, now = this.clock.now()): void {
    checkTimeClaimsAreDates(decoded.payload, now, this.config.clockToleranceSeconds);
  }

  /** Claims step: `typ`, required claims, `iss`, audience (an introspection answer's own way). */
  checkClaims(decoded: DecodedToken): void {
    if (decoded.introspected) checkIntrospectedClaims(this.config, decoded.payload);
    else checkClaims(this.config, decoded.header, decoded.payload);
  }

  /** Time step, part two: `nbf`, `exp`, maximum age. */
  checkTimeWindow(decoded: DecodedToken, now = this.clock.now()): void {
    checkTimeWindow(this.config, decoded.payload, now);
  }

  /** The token as the rest of the pipeline sees it, once every step passed. */
  verifiedToken(decoded: DecodedToken): VerifiedToken {
    return toVerifiedToken(this.config, decoded.header, decoded.payload);
  }

  private keyObject(jwk: JWK): KeyObject | undefined {
    let key = this.keyObjects.get(jwk);
    if (key === undefined) {
      key = keyObjectFor(jwk) ?? null;
      this.keyObjects.set(jwk, key);
    }
    return key ?? undefined;
  }
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
