import { errors } from 'jose';
import type { ReasonCode } from '@resolver/reasons';
import { reasonForClaim } from './claim-checks';

/**
 * Maps what jose throws to a reason: the oracle the specs hold the resolver's own steps to (the
 * claim steps to `jwtVerify`, the signature step to `compactVerify`). Covers every `JOSEError`
 * code `jwtVerify` can raise and the plain `TypeError`s thrown when a key does not fit an
 * algorithm. Matched by `code` and `name`, not `instanceof`: jose 5 (the signature oracle,
 * `jose-v5`) and jose 6 throw classes of their own with the same codes, and node:crypto's
 * TypeError is another realm's under Jest.
 */
export function reasonForJoseError(error: unknown): ReasonCode {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  switch (code) {
    case errors.JWTExpired.code:
      return 'TOKEN_EXPIRED';
    case errors.JWTClaimValidationFailed.code: {
      const { claim, reason } = error as errors.JWTClaimValidationFailed;
      if (claim === 'nbf')
        return reason === 'check_failed' ? 'TOKEN_NOT_YET_VALID' : 'CLAIM_INVALID';
      if (claim === 'exp') return reason === 'check_failed' ? 'TOKEN_EXPIRED' : 'CLAIM_INVALID';
      return reasonForClaim(claim);
    }
    case errors.JOSEAlgNotAllowed.code:
      return 'ALGORITHM_NOT_ALLOWED';
    case errors.JWSSignatureVerificationFailed.code:
      return 'SIGNATURE_INVALID';
    case errors.JWKSNoMatchingKey.code:
    case errors.JWKSMultipleMatchingKeys.code:
    case errors.JWKInvalid.code:
      return 'SIGNING_KEY_NOT_FOUND';
    case errors.JWKSTimeout.code:
    case errors.JWKSInvalid.code:
      return 'KEYS_UNAVAILABLE';
    // Malformed JWS/JWT, unsupported `crit` extensions, `b64: false`, unknown algorithms.
    case errors.JWTInvalid.code:
    case errors.JWSInvalid.code:
    case errors.JOSENotSupported.code:
      return 'TOKEN_MALFORMED';
  }
  // A key that cannot be used with the token's algorithm (wrong type, wrong curve, RSA key too
  // short), or a JWK node:crypto cannot import: no trusted key can verify this token.
  if (name === 'TypeError') return 'SIGNING_KEY_NOT_FOUND';
  return 'TOKEN_MALFORMED';
}
