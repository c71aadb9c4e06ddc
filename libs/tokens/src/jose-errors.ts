import { errors } from 'jose';
import type { ReasonCode } from '@resolver/reasons';
import { reasonForClaim } from './claim-checks';

/**
 * Maps what `jose` throws to a reason. Covers every `JOSEError` code `jwtVerify` can raise and the
 * plain `TypeError`s it throws when a key does not fit an algorithm, so that no crafted token can
 * turn into a 500.
 */
export function reasonForJoseError(error: unknown): ReasonCode {
  if (error instanceof errors.JWTExpired) return 'TOKEN_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return error.reason === 'check_failed' ? 'TOKEN_NOT_YET_VALID' : 'CLAIM_INVALID';
      case 'exp':
        return error.reason === 'check_failed' ? 'TOKEN_EXPIRED' : 'CLAIM_INVALID';
      default:
        return reasonForClaim(error.claim);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'ALGORITHM_NOT_ALLOWED';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'SIGNATURE_INVALID';
  if (error instanceof errors.JWKSNoMatchingKey) return 'SIGNING_KEY_NOT_FOUND';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'SIGNING_KEY_NOT_FOUND';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return 'KEYS_UNAVAILABLE';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return 'TOKEN_MALFORMED';
  // Unsupported `crit` extensions, `b64: false` and unknown algorithms all land here.
  if (error instanceof errors.JOSENotSupported) return 'TOKEN_MALFORMED';
  if (error instanceof errors.JWKInvalid) return 'SIGNING_KEY_NOT_FOUND';
  // jose throws TypeError when a key cannot be used with the token's algorithm (wrong type,
  // wrong curve, RSA key too short), and node:crypto when a JWK is no key: no trusted key can
  // verify this token. By name too: node:crypto's TypeError is another realm's under Jest.
  if (error instanceof TypeError || (error as { name?: unknown } | null)?.name === 'TypeError')
    return 'SIGNING_KEY_NOT_FOUND';
  return 'TOKEN_MALFORMED';
}
