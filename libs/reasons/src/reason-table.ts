import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ReasonCode } from './reason-code';

/**
 * What a failure means to the caller: `refused` is the caller's problem (bad token, unknown or
 * barred user), `unavailable` is ours (a dependency is down) and must never be read as a "no".
 */
export type Outcome = 'resolved' | 'refused' | 'unavailable';

/** How one reason is presented on every surface. */
export interface ReasonPresentation {
  readonly grpcStatus: GrpcStatus;
  readonly httpStatus: 401 | 403 | 503;
  readonly outcome: Exclude<Outcome, 'resolved'>;
  /** Short human title for problem documents; never carries request data. */
  readonly title: string;
  /** For an `unavailable` reason: the `Retry-After` (seconds) its HTTP answers carry. */
  readonly retryAfterSeconds?: number;
}

const unauthenticated = (title: string): ReasonPresentation => ({
  grpcStatus: GrpcStatus.UNAUTHENTICATED,
  httpStatus: 401,
  outcome: 'refused',
  title,
});
const denied = (title: string): ReasonPresentation => ({
  grpcStatus: GrpcStatus.PERMISSION_DENIED,
  httpStatus: 403,
  outcome: 'refused',
  title,
});
const unavailable = (title: string, retryAfterSeconds = 1): ReasonPresentation => ({
  grpcStatus: GrpcStatus.UNAVAILABLE,
  httpStatus: 503,
  outcome: 'unavailable',
  title,
  retryAfterSeconds,
});

/** The one place that maps a reason to gRPC status, HTTP status and metric outcome. */
export const REASON_TABLE: { readonly [R in ReasonCode]: ReasonPresentation } = {
  TOKEN_MISSING: unauthenticated('No bearer token was presented'),
  TOKEN_MALFORMED: unauthenticated('The token is not a well-formed JWS compact JWT'),
  TOKEN_TOO_LARGE: unauthenticated('The token exceeds the size limit'),
  ISSUER_UNKNOWN: unauthenticated('The token issuer is not configured'),
  ALGORITHM_NOT_ALLOWED: unauthenticated('The token algorithm is not allowed for its issuer'),
  SIGNING_KEY_NOT_FOUND: unauthenticated('No trusted key matches the token'),
  SIGNATURE_INVALID: unauthenticated('The token signature is invalid'),
  TOKEN_EXPIRED: unauthenticated('The token has expired'),
  TOKEN_NOT_YET_VALID: unauthenticated('The token is not valid yet'),
  AUDIENCE_MISMATCH: unauthenticated('The token audience is not accepted'),
  CLAIM_INVALID: unauthenticated('A token claim is missing or invalid'),
  TOKEN_REVOKED: unauthenticated('The token has been revoked'),
  SUBJECT_MISSING: unauthenticated('The token carries no subject'),
  SUBJECT_MALFORMED: unauthenticated('The token subject is malformed'),
  TENANT_MISSING: unauthenticated('The token carries no tenant'),
  USER_NOT_FOUND: unauthenticated('No user matches the token subject'),
  PROVISIONING_REJECTED: unauthenticated('The user could not be provisioned from the token'),
  USER_DISABLED: denied('The user is disabled'),
  USER_LOCKED: denied('The user is locked'),
  USER_DELETED: denied('The user has been deleted'),
  USER_STORE_UNAVAILABLE: unavailable('The user store is unavailable'),
  KEYS_UNAVAILABLE: unavailable('The issuer signing keys are unavailable'),
  // Not an outage: the store kept answering, but no pool connection came free within the
  // request's bound. Its own code because the operator's fix differs (capacity: pool size,
  // replicas, Postgres connections; not the database's health), and so do the alert and the
  // client's retry; the status stays 503 / UNAVAILABLE, so gateways fail closed exactly as for
  // an outage. Retry-After 2: a retry one second later lands in the same saturated queue (a
  // queue wait is bounded by database.connectTimeoutMs, 2 s by default).
  USER_STORE_OVERLOADED: unavailable(
    'The user store is overloaded: no connection came free in time',
    2,
  ),
  // Sender binding: a token bound to a key (cnf.jkt) or a certificate (cnf["x5t#S256"]) is
  // accepted only with its proof, never downgraded to a bearer token.
  PROOF_MISSING: unauthenticated('The token is sender-bound and the request carries no proof'),
  PROOF_INVALID: unauthenticated('The proof of possession is invalid'),
  PROOF_REPLAYED: unauthenticated('The proof of possession was already used'),
  DECRYPTION_FAILED: unauthenticated('The encrypted token could not be decrypted'),
  BINDING_MISMATCH: unauthenticated('The token is not bound to the key or certificate presented'),
  // Opaque tokens: the issuer's introspection endpoint (RFC 7662) said `active: false` (revoked,
  // expired or never issued: the answer does not say which); or it could not be asked or gave
  // no usable answer (down, timeout, 5xx, bad JSON, our client authentication refused), which is
  // an outage, never a "no".
  TOKEN_INACTIVE: unauthenticated('The authorization server says the token is not active'),
  INTROSPECTION_UNAVAILABLE: unavailable('The token introspection endpoint is unavailable'),
};

/** Looks up how a reason is presented. */
export function presentReason(reason: ReasonCode): ReasonPresentation {
  return REASON_TABLE[reason];
}
