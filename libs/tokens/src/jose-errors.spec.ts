import { errors } from 'jose';
import { reasonForJoseError } from './jose-errors';

describe('reasonForJoseError', () => {
  it.each([
    [new errors.JWTExpired('x', {}, 'exp', 'check_failed'), 'TOKEN_EXPIRED'],
    [new errors.JWTClaimValidationFailed('x', {}, 'nbf', 'check_failed'), 'TOKEN_NOT_YET_VALID'],
    [new errors.JWTClaimValidationFailed('x', {}, 'nbf', 'invalid'), 'CLAIM_INVALID'],
    [new errors.JWTClaimValidationFailed('x', {}, 'exp', 'missing'), 'CLAIM_INVALID'],
    [new errors.JWTClaimValidationFailed('x', {}, 'aud', 'check_failed'), 'AUDIENCE_MISMATCH'],
    [new errors.JWTClaimValidationFailed('x', {}, 'iss', 'check_failed'), 'ISSUER_UNKNOWN'],
    [new errors.JWTClaimValidationFailed('x', {}, 'sub', 'missing'), 'SUBJECT_MISSING'],
    [new errors.JWTClaimValidationFailed('x', {}, 'iat', 'invalid'), 'CLAIM_INVALID'],
    [new errors.JOSEAlgNotAllowed('x'), 'ALGORITHM_NOT_ALLOWED'],
    [new errors.JWSSignatureVerificationFailed(), 'SIGNATURE_INVALID'],
    [new errors.JWKSNoMatchingKey(), 'SIGNING_KEY_NOT_FOUND'],
    [new errors.JWKSTimeout(), 'KEYS_UNAVAILABLE'],
    [new errors.JWKSInvalid('x'), 'KEYS_UNAVAILABLE'],
    [new errors.JWSInvalid('x'), 'TOKEN_MALFORMED'],
    [new errors.JWTInvalid('x'), 'TOKEN_MALFORMED'],
    [new errors.JOSENotSupported('crit'), 'TOKEN_MALFORMED'],
    [new errors.JWKInvalid('x'), 'SIGNING_KEY_NOT_FOUND'],
    [new TypeError('Key for the RS256 algorithm must be of type RSA'), 'SIGNING_KEY_NOT_FOUND'],
    [new Error('anything else'), 'TOKEN_MALFORMED'],
  ])('%s -> %s', (error, reason) => {
    expect(reasonForJoseError(error)).toBe(reason);
  });
});
