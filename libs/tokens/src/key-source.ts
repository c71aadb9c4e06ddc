import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { Clock, IssuerConfig, KeySourceConfig } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { hasKid } from './key-selection';

/**
 * How an issuer's keys stand:
 * - `ok`: configured keys, or keys fetched and the last fetch succeeded;
 * - `pending`: a remote source that has not been asked yet (keys are fetched on first use);
 * - `degraded`: the last fetch failed and the last good keys are served (stale-if-error);
 * - `unavailable`: a fetch failed and no usable keys are held (none ever fetched, or older than
 *   `maxStaleMs`): tokens of this issuer get KEYS_UNAVAILABLE.
 */
export type KeySourceStatus = 'ok' | 'pending' | 'degraded' | 'unavailable';

/** What readiness and diagnosis can say about an issuer's keys. */
export interface KeySourceState {
  readonly kind: KeySourceConfig['kind'];
  readonly status: KeySourceStatus;
  readonly keyIds: readonly string[];
  readonly lastFetchAt?: Date;
  readonly lastError?: string;
  /** Serving keys after a failed refetch because the IdP could not be reached. */
  readonly degraded: boolean;
}

/** Supplies an issuer's trusted verification keys. */
export interface KeySource {
  /** Keys to try for a token with this `kid`; throws `KEYS_UNAVAILABLE` if none can be had. */
  keysFor(kid: string | undefined): Promise<readonly JWK[]>;
  state(): KeySourceState;
}

/** Observes JWKS fetches (metrics). */
export type FetchObserver = (issuer: string, result: 'success' | 'failure') => void;

/** Keys known at boot: PEM/JWK files, or the embedded dev issuer's public key. */
export class StaticKeySource implements KeySource {
  constructor(
    private readonly kind: KeySourceConfig['kind'],
    private readonly keys: readonly JWK[],
  ) {}
  keysFor(): Promise<readonly JWK[]> {
    return Promise.resolve(this.keys);
  }
  state(): KeySourceState {
    return {
      kind: this.kind,
      status: 'ok',
      keyIds: this.keys.map((k) => k.kid ?? '(no kid)'),
      degraded: false,
    };
  }
}

/** An HMAC issuer: one shared secret. */
export class HmacKeySource implements KeySource {
  private readonly keys: readonly JWK[];
  constructor(secret: Uint8Array) {
    this.keys = [{ kty: 'oct', k: Buffer.from(secret).toString('base64url') }];
  }
  keysFor(): Promise<readonly JWK[]> {
    return Promise.resolve(this.keys);
  }
  state(): KeySourceState {
    return { kind: 'hmac', status: 'ok', keyIds: ['(shared secret)'], degraded: false };
  }
}

/**
 * A JWKS fetched over HTTP(S) with an explicit timeout, cached for `cacheMaxAgeMs`. An unknown
 * `kid` triggers at most one refetch per `cooldownMs` (a flood of random kids cannot become a
 * flood of requests to the IdP); concurrent fetches share one request. When a refetch fails the
 * last good keys keep working (stale-if-error) until `maxStaleMs` after their last successful
 * fetch, and the source reports itself degraded; failed fetches are retried at most once per
 * cooldown. Without usable keys the answer is KEYS_UNAVAILABLE, never a signature failure.
 */
export class RemoteJwksSource implements KeySource {
  private keys: readonly JWK[] | undefined;
  private fetchedAt: number | undefined;
  private lastAttemptAt: number | undefined;
  private lastError: string | undefined;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly locate: () => Promise<string>,
    private readonly policy: IssuerConfig['jwks'],
    private readonly clock: Clock,
    private readonly observe: FetchObserver = () => undefined,
    private readonly kind: KeySourceConfig['kind'] = 'jwks',
    private readonly fetchDocument: (
      url: string,
      timeoutMs: number,
    ) => Promise<unknown> = fetchJson,
  ) {}

  async keysFor(kid: string | undefined): Promise<readonly JWK[]> {
    const now = this.clock.now().getTime();
    const age = this.fetchedAt === undefined ? Infinity : now - this.fetchedAt;
    const coolingDown =
      this.lastAttemptAt !== undefined && now - this.lastAttemptAt < this.policy.cooldownMs;
    const wantsRefetch = !this.keys || age >= this.policy.cacheMaxAgeMs || !hasKid(this.keys, kid);
    // A fetch already under way is joined whatever the cooldown says: it costs no request, and
    // callers arriving during the very first fetch must not be told there are no keys.
    if (wantsRefetch && (this.inflight || !coolingDown)) await this.refresh();
    const keys = this.usableKeys();
    if (!keys) {
      throw new ResolutionError(
        'KEYS_UNAVAILABLE',
        `no usable keys for ${this.issuer}: ${this.lastError ?? 'not fetched yet'}`,
      );
    }
    return keys;
  }

  state(): KeySourceState {
    const usable = this.usableKeys() !== undefined;
    const status: KeySourceStatus =
      this.lastError === undefined
        ? this.keys === undefined
          ? 'pending'
          : 'ok'
        : usable
          ? 'degraded'
          : 'unavailable';
    return {
      kind: this.kind,
      status,
      keyIds: (this.keys ?? []).map((k) => k.kid ?? '(no kid)'),
      lastFetchAt: this.fetchedAt === undefined ? undefined : new Date(this.fetchedAt),
      lastError: this.lastError,
      degraded: status === 'degraded',
    };
  }

  /** The held keys unless they are older than the maximum staleness. */
  private usableKeys(): readonly JWK[] | undefined {
    if (!this.keys || this.fetchedAt === undefined) return undefined;
    const age = this.clock.now().getTime() - this.fetchedAt;
    return age < this.policy.maxStaleMs ? this.keys : undefined;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    this.lastAttemptAt = this.clock.now().getTime();
    try {
      const url = await this.locate();
      const body = await this.fetchDocument(url, this.policy.timeoutMs);
      const keys = (body as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) throw new Error('JWKS has no "keys" array');
      this.keys = keys.filter(isPublicVerificationKey);
      this.fetchedAt = this.clock.now().getTime();
      this.lastError = undefined;
      this.observe(this.issuer, 'success');
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.observe(this.issuer, 'failure');
    }
  }
}

/**
 * Only asymmetric public keys are taken from a remote JWKS: a published `oct` key or a key
 * carrying private members is a mistake of the IdP and must never become a verification secret.
 */
function isPublicVerificationKey(k: unknown): k is JWK {
  if (typeof k !== 'object' || k === null) return false;
  const jwk = k as Record<string, unknown>;
  return (
    typeof jwk.kty === 'string' &&
    ['RSA', 'EC', 'OKP'].includes(jwk.kty) &&
    jwk.d === undefined &&
    jwk.p === undefined &&
    jwk.k === undefined
  );
}

/** GETs a JSON document with a hard timeout; never follows the token's own URLs. */
export async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
    redirect: 'error',
  });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > 1_048_576) throw new Error(`GET ${url}: document larger than 1 MiB`);
  return JSON.parse(text) as unknown;
}

/**
 * OIDC discovery: the JWKS URL from `/.well-known/openid-configuration`, whose `issuer` must
 * equal the configured one exactly (otherwise another issuer's keys could be trusted).
 */
export function discoveryLocator(issuer: string, timeoutMs: number): () => Promise<string> {
  let jwksUri: string | undefined;
  return async () => {
    if (jwksUri) return jwksUri;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await fetchJson(url, timeoutMs)) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer) {
      throw new Error(
        `discovery document issuer ${JSON.stringify(doc.issuer)} does not equal ${issuer}`,
      );
    }
    if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) {
      throw new Error('discovery document has no http(s) jwks_uri');
    }
    jwksUri = doc.jwks_uri;
    return jwksUri;
  };
}

/** Reads PEM (SPKI public key or X.509 certificate) or JWK / JWKS JSON files into public JWKs. */
export async function loadKeyFiles(paths: readonly string[], origin: string): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const [i, path] of paths.entries()) {
    const text = await readFile(path, 'utf8');
    try {
      if (text.includes('-----BEGIN')) {
        if (/PRIVATE KEY-----/.test(text))
          throw new Error('holds a private key; configure the public key only');
        const key = text.includes('CERTIFICATE')
          ? new X509Certificate(text).publicKey
          : createPublicKey(text);
        keys.push(key.export({ format: 'jwk' }) as JWK);
      } else {
        const json = JSON.parse(text) as JWK | { keys: JWK[] };
        const list = 'keys' in json && Array.isArray(json.keys) ? json.keys : [json as JWK];
        for (const jwk of list) {
          if (jwk.d !== undefined || (jwk.kty === 'oct' && jwk.k !== undefined)) {
            throw new Error('holds private or symmetric key material; configure public keys only');
          }
          keys.push(jwk);
        }
      }
    } catch (error) {
      throw new Error(`${origin}.keys[${i}] (${path}): ${(error as Error).message}`);
    }
  }
  return keys;
}
