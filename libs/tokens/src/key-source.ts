import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { IssuerConfig, KeySourceConfig } from '@resolver/config';
import { type Clock, errorType, SpanKind, type Tracing } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { hasKid } from './key-selection';
import { ownData } from './compact-token';

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
  /**
   * What {@link keysFor} would answer for this `kid` without waiting, or undefined when only it
   * can answer (a fetch to wait for, an error to throw). Lets a new token's key step finish with
   * no promise when the keys are held (nearly always).
   */
  heldKeys(kid: string | undefined): readonly JWK[] | undefined;
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
  heldKeys(): readonly JWK[] {
    return this.keys;
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
  heldKeys(): readonly JWK[] {
    return this.keys;
  }
  state(): KeySourceState {
    return { kind: 'hmac', status: 'ok', keyIds: ['(shared secret)'], degraded: false };
  }
}

/**
 * While an issuer has no usable key at all, its JWKS is retried this often (single flight),
 * whatever `cooldownMs` says: every request fails in that state anyway, so the retry costs
 * little, and recovery after the IdP returns takes about this long instead of one cooldown.
 */
export const UNAVAILABLE_RETRY_MS = 1_000;

/**
 * A JWKS fetched over HTTP(S) with an explicit timeout, cached for `cacheMaxAgeMs`.
 *
 * No request waits on a refetch while a cached key can verify its token:
 * - keys older than `cacheMaxAgeMs` are served at once and refreshed in the background
 *   (stale-while-revalidate); a failed refresh keeps the last good keys (stale-if-error, the
 *   source reports itself degraded) until `maxStaleMs` after their last successful fetch, and is
 *   retried at most once per `cooldownMs`;
 * - a request waits, at most `timeoutMs`, only when no cached key can verify it: an unknown
 *   `kid` (at most one refetch per `cooldownMs`, so a flood of random kids cannot become a flood
 *   of requests to the IdP), or nothing fetched yet;
 * - once a fetch has failed and no usable key is left (never fetched, or past `maxStaleMs`), the
 *   answer is KEYS_UNAVAILABLE at once, never a signature failure and never a wait, and the JWKS
 *   is retried in the background every {@link UNAVAILABLE_RETRY_MS}.
 *
 * Concurrent fetches share one request.
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
    private readonly fetchDocument: FetchDocument = fetchJson,
  ) {}

  /** The keys {@link keysFor} answers at once: usable keys that have this `kid`. */
  heldKeys(kid: string | undefined): readonly JWK[] | undefined {
    const now = this.clock.nowMs();
    const usable = this.usableKeys(now);
    if (!usable || !hasKid(usable, kid)) return undefined;
    // Stale but usable: answer now, refresh behind the request. After a successful fetch the
    // key age itself spaces refreshes; after a failed one the cooldown does.
    if (now - (this.fetchedAt as number) >= this.policy.cacheMaxAgeMs)
      this.refreshUnlessCoolingDown(now, this.lastError === undefined ? 0 : this.policy.cooldownMs);
    return usable;
  }

  async keysFor(kid: string | undefined): Promise<readonly JWK[]> {
    const held = this.heldKeys(kid);
    if (held) return held;
    const now = this.clock.nowMs();
    const usable = this.usableKeys(now);
    if (usable) {
      // Unknown kid: only a refetch can help. A fetch already under way is joined whatever the
      // cooldown says (it costs no request); a new one is started at most once per cooldown.
      if (this.inflight || this.mayAttempt(now, this.policy.cooldownMs))
        await this.waitBounded(this.refresh());
      return this.usableKeys(this.clock.nowMs()) ?? usable;
    }
    if (this.lastError !== undefined) {
      // A fetch failed and nothing usable is held: every token of this issuer fails until a
      // fetch succeeds, so none waits for one; the retry runs behind the requests.
      this.refreshUnlessCoolingDown(now, Math.min(UNAVAILABLE_RETRY_MS, this.policy.cooldownMs));
      throw this.unavailable();
    }
    // Nothing fetched yet (or keys expired with no failed fetch since): wait, bounded. Callers
    // arriving during the very first fetch join it and must not be told there are no keys.
    await this.waitBounded(this.refresh());
    const keys = this.usableKeys(this.clock.nowMs());
    if (!keys) throw this.unavailable();
    return keys;
  }

  state(): KeySourceState {
    const usable = this.usableKeys(this.clock.nowMs()) !== undefined;
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

  private unavailable(): ResolutionError {
    return new ResolutionError(
      'KEYS_UNAVAILABLE',
      `no usable keys for ${this.issuer}: ${this.lastError ?? 'not fetched yet'}`,
    );
  }

  /** The held keys unless they are older than the maximum staleness. */
  private usableKeys(now: number): readonly JWK[] | undefined {
    if (!this.keys || this.fetchedAt === undefined) return undefined;
    return now - this.fetchedAt < this.policy.maxStaleMs ? this.keys : undefined;
  }

  private mayAttempt(now: number, intervalMs: number): boolean {
    return this.lastAttemptAt === undefined || now - this.lastAttemptAt >= intervalMs;
  }

  /** Starts a background fetch unless one is under way or the last began under `intervalMs` ago. */
  private refreshUnlessCoolingDown(now: number, intervalMs: number): void {
    // refresh() never rejects: a failure is recorded in lastError.
    if (!this.inflight && this.mayAttempt(now, intervalMs)) void this.refresh();
  }

  /**
   * Waits for a fetch at most `timeoutMs`. The fetch bounds itself too, but OIDC discovery's
   * document fetch comes before it with its own timeout: together they could take twice as long.
   */
  private async waitBounded(fetch: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.policy.timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([fetch, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    this.lastAttemptAt = this.clock.nowMs();
    try {
      const url = await this.locate();
      const body = await this.fetchDocument(url, this.policy.timeoutMs);
      const keys = (body as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) throw new Error('JWKS has no "keys" array');
      this.keys = keys.filter(isPublicVerificationKey);
      this.fetchedAt = this.clock.nowMs();
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

/** How an IdP document (discovery, JWKS) is fetched. */
export type FetchDocument = (url: string, timeoutMs: number) => Promise<unknown>;

/** GETs a JSON document with a hard timeout; never follows the token's own URLs. */
export async function fetchJson(
  url: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { ...headers, accept: 'application/json' },
    redirect: 'error',
  });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > 1_048_576) throw new Error(`GET ${url}: document larger than 1 MiB`);
  // Own data only: a member the IdP did not send never reads through to Object.prototype.
  return ownData(JSON.parse(text));
}

/**
 * {@link fetchJson} with tracing on: a client span per fetch (`GET`, the configured URL, never a
 * token's), whose `traceparent` goes to the IdP with the request.
 */
export function tracedFetch(tracing: Tracing): FetchDocument {
  return (url, timeoutMs) =>
    tracing.within(
      'GET',
      SpanKind.CLIENT,
      { 'http.request.method': 'GET', 'url.full': url, 'server.address': new URL(url).hostname },
      () => fetchJson(url, timeoutMs, tracing.inject({})),
      errorType,
    );
}

/**
 * OIDC discovery: the JWKS URL from `/.well-known/openid-configuration`, whose `issuer` must
 * equal the configured one exactly (otherwise another issuer's keys could be trusted).
 */
export function discoveryLocator(
  issuer: string,
  timeoutMs: number,
  fetchDocument: FetchDocument = fetchJson,
): () => Promise<string> {
  let jwksUri: string | undefined;
  return async () => {
    if (jwksUri) return jwksUri;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await fetchDocument(url, timeoutMs)) as { issuer?: unknown; jwks_uri?: unknown };
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
        keys.push(key.export({ format: 'jwk' }));
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
