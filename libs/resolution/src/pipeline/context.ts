import type { IssuerConfig } from '@resolver/config';
import type { LookupKey, NewUser, UserRecord } from '@resolver/identity';
import type {
  DecodedToken,
  IntrospectedToken,
  IntrospectionClient,
  IssuerVerifier,
  JweRoute,
  PasetoKey,
  PasetoToken,
  TokenFormat,
  TokenVerifier,
  VerifiedToken,
} from '@resolver/tokens';
import type { JWK } from 'jose';
import type { CachedToken } from '../cache/subject-caches';
import type { Phase } from '../deadline';
import type { CredentialScheme } from '../bearer';
import type { BindingFindings } from './binding-step';
import type { IntrospectionFindings } from './introspection-step';
import type { PresentedRequest, ResolutionSource } from '../resolution';

/**
 * What the steps of one resolution have established so far. Each step reads what earlier steps
 * put here and adds its own finding; ResolveSubject runs the steps on it fail-fast,
 * DiagnoseSubject step by step.
 */
export interface PipelineContext {
  /** The compact token, once extracted. */
  raw: string;
  /** Its verified-token cache key ({@link tokenHash}). */
  hash: string;
  /** How it came: a request field, or `Authorization: Bearer` / `DPoP`. */
  scheme: CredentialScheme;
  /** The request as the gateway saw it, read by the binding step only (see ResolveRequest). */
  presented?: () => PresentedRequest;
  /** What a deadline that passes now would blame. */
  phase: Phase;
  /**
   * When the store must have given up (epoch ms): a little before the request's deadline, so a
   * store call that could not even start says why (overloaded) before the deadline answers.
   * No statement starts after it. Unset: the store's own bounds only (diagnosis).
   */
  storeDeadlineAt?: number;
  /** The verified-token cache's entry: with one, the token steps are not run. */
  cached?: CachedToken;
  /**
   * The format step's answer: what the token is, by its shape. The steps of one format run only
   * for it (`when`); the steps after the signature work on {@link decoded} whatever the format.
   */
  format?: TokenFormat;
  /** A JWE's route: the issuer and decryption key its header names (set before decrypting). */
  jwe?: JweRoute;
  /** A PASETO v4.public token, parsed, and the issuer's keys its footer selects. */
  paseto?: { readonly token: PasetoToken; candidates?: readonly PasetoKey[] };
  /**
   * The JWS a JWE carried (RFC 7519 §5.2), which the JWS steps decode and verify; the token
   * itself is still what the verified-token cache keys on.
   */
  nested?: string;
  /**
   * The header and claims every later step reads, whatever the format: a JWS's own, a JWE's
   * nested JWS's, a PASETO token's claims in the JWT shape, an introspection answer's.
   */
  decoded?: DecodedToken;
  /** An opaque token's active introspection answer (RFC 7662), once the endpoint gave one. */
  introspected?: IntrospectedToken;
  /** What the introspection step found (the diagnosis reports it). */
  introspection?: IntrospectionFindings;
  issuer?: IssuerVerifier;
  candidates?: readonly JWK[];
  /** Set once every token step passed (or by JIT, verifying a cached token again). */
  verified?: VerifiedToken;
  /** The subject step's answer: the subject as looked up, and the kind of principal. */
  subject?: { readonly value: string; readonly kind: LookupKey['kind'] };
  /** The tenant step's answer: the lookup key. */
  key?: LookupKey;
  /** What the binding step found: the token's confirmation methods, the policy, the proof. */
  binding?: BindingFindings;
  /** The token as every later step sees it: the cache's entry or the one just verified. */
  token?: CachedToken;
  /** Set when the caller already asked the user cache for `token` and missed. */
  userCacheAsked?: boolean;
  /** The lookup step's answer: the user, or `null` for "no such user". */
  user?: UserRecord | null;
  source?: ResolutionSource;
}

/**
 * The caches as the steps use them. ResolveSubject passes the real caches (which count hits and
 * keep recency); DiagnoseSubject a peek-only view whose writes do nothing.
 */
export interface PipelineCaches {
  getToken(hash: string): CachedToken | undefined;
  putToken(hash: string, token: CachedToken): void;
  getUser(userKey: string): UserRecord | undefined;
  putUser(userKey: string, user: UserRecord): void;
  isKnownMissing(userKey: string): boolean;
  putMissing(userKey: string): void;
  isRevoked(issuer: string, jti: string): boolean | undefined;
  staleRevoked(issuer: string, jti: string): boolean | undefined;
  staleUser(userKey: string): UserRecord | undefined;
}

/** What the JIT step did, for the provisioning counter. */
export type JitOutcome = 'created' | 'existing' | 'rejected' | 'error';

/**
 * The dependencies of the steps. Real ones resolve; peek-only ones (diagnosis) make every check
 * the real ones make and change nothing: no writes, no cache writes, no metrics.
 */
export interface PipelineEnv {
  readonly verifier: TokenVerifier;
  readonly caches: PipelineCaches;
  readonly maxTokenBytes: number;
  nowMs(): number;
  /** The store's answer for a key (`userKey` is its cache key); no cache is consulted. */
  findUser(key: LookupKey, userKey: string, deadlineAt?: number): Promise<UserRecord | null>;
  isRevoked(issuer: string, jti: string): Promise<boolean>;
  /**
   * Provisions (real: concurrent calls for one key and input share one store call, counted
   * once) or checks in a rolled-back transaction that it would (peek).
   */
  provision(
    key: LookupKey,
    userKey: string,
    user: NewUser,
    deadlineAt?: number,
  ): Promise<{ user: UserRecord; created: boolean }>;
  countJit(issuer: string, outcome: JitOutcome): void;
  /**
   * An opaque token's answer from its issuer's introspection endpoint (real: the introspection
   * cache read and written; peek: read only).
   */
  introspect(client: IntrospectionClient, token: string, hash: string): Promise<IntrospectedToken>;
  /**
   * Remembers a DPoP proof's `(jkt, jti)` until `untilMs` in the store every replica shares:
   * true the first time, false for a replay (peek: whether it would be). A store that cannot
   * answer throws its unavailable reason: the proof is never accepted unchecked.
   */
  rememberProof(jkt: string, jti: string, untilMs: number, deadlineAt?: number): Promise<boolean>;
}

/** The configured policy of the issuer that a token's (cached or verified) key names. */
export function issuerPolicy(env: PipelineEnv, issuer: string): IssuerConfig | undefined {
  return env.verifier.issuer(issuer)?.config;
}
