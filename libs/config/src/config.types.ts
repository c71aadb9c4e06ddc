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
  readonly normalize: {
    readonly trim: boolean;
    readonly nfc: boolean;
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
}

/** Everything the resolver trusts about one issuer. */
export interface IssuerConfig {
  readonly issuer: string;
  readonly keySource: KeySourceConfig;
  readonly audiences: readonly string[];
  readonly algorithms: readonly Algorithm[];
  readonly clockToleranceSeconds: number;
  readonly requiredClaims: readonly string[];
  readonly jwks: JwksPolicy;
  readonly subject: SubjectPolicy;
  readonly tenant?: TenantPolicy;
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
  /** `google.rpc.ErrorInfo.domain` of every error. */
  readonly domain: string;
  readonly database: DatabaseConfig;
  readonly embedded: EmbeddedConfig;
  readonly limits: { readonly maxTokenBytes: number };
  readonly lifecycle: LifecycleConfig;
  readonly logging: LoggingConfig;
  readonly issuers: readonly IssuerConfig[];
  readonly source: string;
}
