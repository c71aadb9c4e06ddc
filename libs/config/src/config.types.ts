/** Algorithms the resolver can verify. `none` is not among them and never will be. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type Algorithm = AsymmetricAlgorithm | HmacAlgorithm;

/** Where an issuer's verification keys come from. */
export type KeySourceConfig =
  | { readonly kind: 'discovery' }
  | { readonly kind: 'jwks'; readonly uri: string }
  /** PEM (SPKI public key or X.509 certificate) or JWK/JWKS JSON files, read at boot. */
  | { readonly kind: 'files'; readonly paths: readonly string[] }
  /** Public JWKs held in memory (the embedded development issuer). */
  | { readonly kind: 'jwks-inline'; readonly keys: readonly { readonly kty: string }[] }
  | { readonly kind: 'hmac'; readonly secret: Uint8Array };

/** How a verified token's claims become a user lookup key. */
export type LookupStrategy = 'external' | 'id' | 'email' | 'username';

export interface SubjectPolicy {
  readonly claim: string;
  readonly lookup: LookupStrategy;
  /**
   * Configured folds and checks. Nothing else is ever rewritten: a subject not already canonical
   * is refused (SUBJECT_MALFORMED).
   */
  readonly normalize: {
    /** Strip ASCII spaces (U+0020) at both ends before validation; off by default. */
    readonly trim: boolean;
    /** Refuse subjects not in NFC (default); false compares them exactly as sent. */
    readonly nfc: boolean;
    /** Lowercase the subject (a fold the operator chose). */
    readonly lowercase: boolean;
  };
  readonly pattern?: RegExp;
  readonly maxLength: number;
}

export interface TenantPolicy {
  readonly claim: string;
  readonly required: boolean;
}

/** A user field a JIT claim can fill. */
export type JitTarget = 'email' | 'username' | 'displayName' | 'roles' | `attributes.${string}`;

export interface JitPolicy {
  readonly enabled: boolean;
  readonly requiredClaims: readonly string[];
  readonly map: Readonly<Record<string, JitTarget>>;
  readonly defaultRoles: readonly string[];
}

export interface JwksPolicy {
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly cacheMaxAgeMs: number;
  /** Keys older than this (since their last successful fetch) are never used, even in an outage. */
  readonly maxStaleMs: number;
}

/**
 * Which tokens are machine clients: they resolve to principals of kind `service`, looked up by
 * their client id (claim `clientIdClaim`), provisioned just in time only if `jit` says so.
 */
export interface ServiceAccountRule {
  readonly when?: { readonly claim: string; readonly equals: string };
  readonly subEqualsClientId: boolean;
  readonly clientIdClaim: string;
  readonly jit: boolean;
}

/** The claims RFC 9068 (JWT profile for OAuth 2.0 access tokens) requires. */
export const RFC9068_REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

/** Everything the resolver trusts about one issuer. */
export interface IssuerConfig {
  readonly issuer: string;
  readonly keySource: KeySourceConfig;
  readonly audiences: readonly string[];
  readonly algorithms: readonly Algorithm[];
  readonly clockToleranceSeconds: number;
  readonly requiredClaims: readonly string[];
  /** Required `typ` header (compared as jose does: case-insensitive, `application/` optional). */
  readonly typ?: string;
  /** Tokens whose `iat` is older than this are refused (TOKEN_EXPIRED); `iat` becomes required. */
  readonly maxTokenAgeSeconds?: number;
  readonly jwks: JwksPolicy;
  readonly subject: SubjectPolicy;
  readonly tenant?: TenantPolicy;
  readonly serviceAccounts?: ServiceAccountRule;
  readonly jit: JitPolicy;
  /** Where this issuer came from, for messages: `issuers[2]` or `embedded dev issuer`. */
  readonly origin: string;
}

export interface DatabaseConfig {
  /** Absent in embedded mode until the embedded server is up. */
  readonly url?: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** Extra attempts after a failed store call, with `retryBackoffMs * 2^n` between them. */
  readonly retryAttempts: number;
  readonly retryBackoffMs: number;
  readonly migrationsRun: boolean;
}

export interface EmbeddedConfig {
  readonly dataDir: string;
  readonly port: number;
}

/** Cache bounds. Entries are also dropped on change notifications from the database. */
export interface CacheConfig {
  readonly enabled: boolean;
  readonly tokens: { readonly maxEntries: number; readonly maxTtlSeconds: number };
  readonly users: { readonly maxEntries: number; readonly ttlSeconds: number };
  readonly negative: { readonly maxEntries: number; readonly ttlSeconds: number };
  /**
   * Outage mode (off at 0): when the store is unreachable, answer users that were cached when the
   * change listener dropped, for at most this many seconds after it dropped.
   */
  readonly serveStaleOnOutageSeconds: number;
}

/** Names of the identity headers the gateway-facing endpoints answer with (lowercase). */
export interface IdentityHeaderNames {
  readonly userId: string;
  readonly email: string;
  readonly tenant: string;
  readonly roles: string;
  readonly kind: string;
}

/** The signed identity assertion added to allowed gateway answers. */
export interface AssertionConfig {
  readonly enabled: boolean;
  readonly header: string;
  /** `iss` of the assertion; defaults to `urn:<server.domain>`. */
  readonly issuer: string;
  /** `aud` of the assertion; set whenever `enabled`. */
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Absolute path of the ES256 private key (PKCS#8 PEM or private JWK); absent = generated at boot. */
  readonly keyFile?: string;
}

/** The gateway-facing answers: forward-auth (`/v1/authz`) and Envoy ext_authz. */
export interface AuthzConfig {
  readonly headers: IdentityHeaderNames;
  /** Whether denials carry the reason code in `reasonHeader` (for the gateway's logs). */
  readonly exposeReasonHeader: boolean;
  readonly reasonHeader: string;
  readonly assertion: AssertionConfig;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggingConfig {
  readonly level: LogLevel;
  /** Subjects in clear in log lines (otherwise a truncated sha256). */
  readonly logSubjects: boolean;
  /** Human-readable output (embedded mode) instead of one JSON object per line. */
  readonly pretty: boolean;
}

/** Deadlines and the shutdown sequence. */
export interface LifecycleConfig {
  /** Upper bound on one resolution: past it the answer is USER_STORE_UNAVAILABLE / KEYS_UNAVAILABLE. */
  readonly requestTimeoutMs: number;
  /** After SIGTERM, how long readiness reports false while requests are still served. */
  readonly shutdownDrainMs: number;
  /** Hard bound on the whole shutdown; past it the process exits non-zero. */
  readonly shutdownGraceMs: number;
}

/** What a SCIM client attribute carries the token subject in. */
export type ScimSubjectAttribute = 'externalId' | 'userName' | `urn:${string}`;

/** One SCIM client: who it is, which users it owns, and how its data maps to resolution. */
export interface ScimClientConfig {
  readonly id: string;
  /** sha256 of the bearer credential (the credential is never kept). */
  readonly tokenSha256: Uint8Array;
  /** The issuer (and tenant) whose tokens these users present; also the client's scope. */
  readonly issuer: string;
  readonly tenant: string;
  readonly subjectAttribute: ScimSubjectAttribute;
  /** Keys are group displayNames (case-insensitive) or group ids. */
  readonly groupRoles: Readonly<Record<string, readonly string[]>>;
  /** The issuer's subject normalisation, applied to the subject attribute before linking. */
  readonly subject: SubjectPolicy;
}

/** The SCIM 2.0 service provider (`/scim/v2`); off when no client is configured. */
export interface ScimConfig {
  readonly maxResults: number;
  readonly maxOperations: number;
  readonly maxMembersPerGroup: number;
  readonly clients: readonly ScimClientConfig[];
}

/** The validated configuration: built once at boot, read-only afterwards. */
export interface ResolverConfig {
  /** `embedded` = no database URL given: embedded Postgres and a development issuer. */
  readonly mode: 'embedded' | 'external';
  readonly http: {
    readonly port: number;
    readonly bindAddress: string;
    readonly bodyLimitBytes: number;
  };
  readonly grpc: { readonly port: number; readonly bindAddress: string };
  /** Processes serving HTTP and gRPC (`node:cluster`); 1 = no cluster. */
  readonly workers: number;
  /** `google.rpc.ErrorInfo.domain` of every error. */
  readonly domain: string;
  readonly database: DatabaseConfig;
  readonly embedded: EmbeddedConfig;
  readonly limits: { readonly maxTokenBytes: number };
  readonly authz: AuthzConfig;
  readonly lifecycle: LifecycleConfig;
  readonly logging: LoggingConfig;
  readonly issuers: readonly IssuerConfig[];
  readonly cache: CacheConfig;
  /**
   * Present only when an admin credential is configured: the admin API is off otherwise. `file`
   * names where embedded mode generated it (`<dataDir>/admin-token`).
   */
  readonly admin?: { readonly token: Uint8Array; readonly file?: string };
  /**
   * False when `admin.enabled: false` turns the admin API off whatever the credential; true
   * otherwise (the API then exists once a credential is configured or generated).
   */
  readonly adminEnabled?: boolean;
  /** Where the CLI finds the admin API (`RESOLVER_URL`, default this config's HTTP address). */
  readonly adminUrl: string;
  readonly scim: ScimConfig;
  readonly source: string;
}
