/**
 * The closed set of reasons a resolution can fail. Extend, never rename: these strings are a
 * public contract (gRPC ErrorInfo.reason, HTTP problem `reason`, metric label, log field).
 */
export const REASON_CODES = [
  'TOKEN_MISSING',
  'TOKEN_MALFORMED',
  'TOKEN_TOO_LARGE',
  'ISSUER_UNKNOWN',
  'ALGORITHM_NOT_ALLOWED',
  'SIGNING_KEY_NOT_FOUND',
  'SIGNATURE_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'AUDIENCE_MISMATCH',
  'CLAIM_INVALID',
  'TOKEN_REVOKED',
  'SUBJECT_MISSING',
  'SUBJECT_MALFORMED',
  'TENANT_MISSING',
  'USER_NOT_FOUND',
  'PROVISIONING_REJECTED',
  'USER_DISABLED',
  'USER_LOCKED',
  'USER_DELETED',
  'USER_STORE_UNAVAILABLE',
  'KEYS_UNAVAILABLE',
  'USER_STORE_OVERLOADED',
  // Sender-constrained tokens (RFC 9449 DPoP, RFC 8705 mTLS): the proof of possession.
  'PROOF_MISSING',
  'PROOF_INVALID',
  'PROOF_REPLAYED',
  'BINDING_MISMATCH',
  // Opaque tokens (RFC 7662): the authorisation server's answer, or its absence.
  'TOKEN_INACTIVE',
  'INTROSPECTION_UNAVAILABLE',
  // Token formats: an encrypted JWT (JWE) that no configured key decrypts.
  'DECRYPTION_FAILED',
] as const;

/** One stable reason code. */
export type ReasonCode = (typeof REASON_CODES)[number];

/** True when `value` is one of the reason codes. */
export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}
