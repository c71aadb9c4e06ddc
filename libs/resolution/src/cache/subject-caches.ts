import { Inject, Injectable } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import type { ChangeEvent, LookupKey, UserRecord } from '@resolver/identity';
import { Clock, ResolverMetrics } from '@resolver/observability';
import type { TokenFormat } from '@resolver/tokens';
import type { TokenBinding } from '../pipeline/binding-step';
import type { TokenInfo } from '../resolution';
import { TtlCache } from './ttl-cache';

/** What the verified-token cache keeps: enough to skip crypto and claim mapping, no more. */
export interface CachedToken {
  readonly issuer: string;
  /** How the token came (for the metrics' format label): a JWS, JWE, PASETO or opaque token. */
  readonly format: TokenFormat;
  readonly key: LookupKey;
  /** `userCacheKey(key)`, built once with the entry: every warm request looks the user up by it. */
  readonly userKey: string;
  readonly info: TokenInfo;
  readonly issuedAtMs?: number;
  readonly expiresAtMs?: number;
  /** An earlier end of the entry than `exp`: an introspected token's answer is fresh until then. */
  readonly cacheUntilMs?: number;
  /** The token's `sid` (a short string), for session revocation by shared signals. */
  readonly sessionId?: string;
  /**
   * The token's sender binding and its issuer's policy; absent for a plain bearer token, which
   * the warm path answers with no binding check at all. A bound token is checked on every
   * request, cached or not.
   */
  readonly binding?: TokenBinding;
}

/**
 * The user-cache (and negative-cache) key of a lookup key. The resolution path builds it once
 * per verified token and keeps it in the {@link CachedToken}.
 */
export function userCacheKey(key: LookupKey): string {
  return `${key.kind}\u0000${key.strategy}\u0000${key.issuer}\u0000${key.tenant}\u0000${key.subject}`;
}

/**
 * The resolver's three caches and its in-memory `jti` deny-list. They are used only while
 * `coherent` — that is, while the LISTEN connection is up and the deny-list has been loaded — so
 * a missed notification can never make an answer stale: without the listener every request goes
 * to the store.
 */
@Injectable()
export class SubjectCaches {
  readonly tokens: TtlCache<string, CachedToken>;
  readonly users: TtlCache<string, UserRecord>;
  readonly negative: TtlCache<string, true>;
  /**
   * Cache keys by user id, for invalidation. Nearly every user has one key, so it is held as a
   * plain string until a second one appears: a Set per cached user was a large share of the
   * cache's memory.
   */
  private readonly keysByUser = new Map<string, string | string[]>();
  private readonly revoked = new Map<string, number>();
  private coherentSince: number | undefined;
  /** What the caches held when coherence was lost, kept only for outage mode. */
  private snapshot:
    { at: number; users: Map<string, UserRecord>; revoked: Map<string, number> } | undefined;

  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly clock: Clock,
    private readonly metrics: ResolverMetrics,
  ) {
    const c = config.cache;
    this.tokens = new TtlCache(c.enabled ? c.tokens.maxEntries : 0, metrics.cacheObserver('token'));
    this.users = new TtlCache(c.enabled ? c.users.maxEntries : 0, metrics.cacheObserver('user'));
    this.negative = new TtlCache(
      c.enabled ? c.negative.maxEntries : 0,
      metrics.cacheObserver('negative'),
    );
  }

  /** True while caches and the in-memory deny-list may be trusted. */
  get coherent(): boolean {
    return this.coherentSince !== undefined;
  }

  private now(): number {
    return this.clock.nowMs();
  }

  getToken(hash: string): CachedToken | undefined {
    if (!this.coherent) return undefined;
    return this.tokens.get(hash, this.now());
  }

  /** Keeps a verified token until its `exp`, capped by `cache.tokens.maxTtlSeconds`. */
  putToken(hash: string, token: CachedToken): void {
    if (!this.coherent) return;
    const cap = this.now() + this.config.cache.tokens.maxTtlSeconds * 1000;
    this.tokens.set(
      hash,
      token,
      Math.min(token.expiresAtMs ?? cap, token.cacheUntilMs ?? cap, cap),
    );
  }

  /** `key` is a {@link userCacheKey}, as every user-side method here takes. */
  getUser(key: string): UserRecord | undefined {
    if (!this.coherent) return undefined;
    return this.users.get(key, this.now());
  }

  /**
   * The warm answer's lookups, not counted: a request they cannot answer goes on to the full
   * path, whose lookups count (counting both times made every new token two misses). The
   * answer, once made, counts its two hits ({@link countWarmHit}).
   */
  findToken(hash: string): CachedToken | undefined {
    return this.coherent ? this.tokens.find(hash, this.now()) : undefined;
  }

  /** {@link findToken}'s user side: a {@link userCacheKey}, not counted. */
  findUser(key: string): UserRecord | undefined {
    return this.coherent ? this.users.find(key, this.now()) : undefined;
  }

  /** Counts the token and user hits of an answer made from {@link findToken}'s entries. */
  countWarmHit(): void {
    this.tokens.countHit();
    this.users.countHit();
  }

  putUser(k: string, user: UserRecord): void {
    if (!this.coherent || this.users.maxEntries <= 0) return;
    this.users.set(k, user, this.now() + this.config.cache.users.ttlSeconds * 1000);
    // The id index only grows between invalidations; past twice the cache bound, start the
    // user cache over. Only the user cache: verified tokens do not depend on the index (and
    // flushing them here made every token be verified again, see the bench's store scenario).
    if (this.keysByUser.size > 2 * this.users.maxEntries) {
      this.users.clear();
      this.keysByUser.clear();
    }
    const keys = this.keysByUser.get(user.id);
    if (keys === undefined) this.keysByUser.set(user.id, k);
    else if (typeof keys === 'string') {
      if (keys !== k) this.keysByUser.set(user.id, [keys, k]);
    } else if (!keys.includes(k)) keys.push(k);
  }

  isKnownMissing(key: string): boolean {
    if (!this.coherent) return false;
    return this.negative.get(key, this.now()) !== undefined;
  }

  putMissing(key: string): void {
    if (!this.coherent) return;
    this.negative.set(key, true, this.now() + this.config.cache.negative.ttlSeconds * 1000);
  }

  /** In-memory deny-list answer, or `undefined` when it cannot be trusted (ask the store). */
  isRevoked(issuer: string, jti: string): boolean | undefined {
    if (!this.coherent) return undefined;
    // Nearly always empty: then no key string is built for the lookup (every warm request).
    if (this.revoked.size === 0) return false;
    const expiresAt = this.revoked.get(`${issuer}\u0000${jti}`);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  /** A database change: drop what it affects. */
  apply(event: ChangeEvent): void {
    if (event.table === 'revoked_tokens') {
      if (!event.issuer || !event.jti) return this.reset();
      const k = `${event.issuer}\u0000${event.jti}`;
      if (event.op === 'DELETE') this.revoked.delete(k);
      else
        this.revoked.set(
          k,
          event.expiresAt ? Date.parse(event.expiresAt) : Number.MAX_SAFE_INTEGER,
        );
      return;
    }
    if (!event.userId) return this.reset();
    // A new row changes no answer that is cached: it can only answer a key remembered as
    // missing. Evicting the user would also throw away the record JIT cached a moment ago from
    // this very insert (its own notification arrives after the answer), so the next request
    // would go to the store, or not, depending on when the notification landed.
    if (event.op === 'INSERT') return this.negative.clear();
    const keys = this.keysByUser.get(event.userId) ?? [];
    for (const k of typeof keys === 'string' ? [keys] : keys) this.users.delete(k);
    this.keysByUser.delete(event.userId);
    // A new user or link may answer a subject we remembered as missing; the negative cache is
    // small and short-lived, so drop it whole rather than guess which keys the change touches.
    if (event.op !== 'DELETE') this.negative.clear();
  }

  /** Trusted again: the listener is up and the deny-list is loaded. */
  markCoherent(revocations: readonly { issuer: string; jti: string; expiresAt: Date }[]): void {
    this.snapshot = undefined;
    this.flush();
    this.revoked.clear();
    for (const r of revocations)
      this.revoked.set(`${r.issuer}\u0000${r.jti}`, r.expiresAt.getTime());
    this.coherentSince = this.now();
    this.metrics.listenerUp.set(1);
  }

  /** Notifications may have been missed: stop trusting and drop everything. */
  reset(): void {
    if (this.coherent && this.config.cache.serveStaleOnOutageSeconds > 0) {
      // Outage mode: remember what was true a moment ago, for use only if the store is down.
      const now = this.now();
      const users = new Map<string, UserRecord>();
      for (const [k, user] of this.users.live(now)) users.set(k, user);
      this.snapshot = { at: now, users, revoked: new Map(this.revoked) };
    }
    this.coherentSince = undefined;
    this.metrics.listenerUp.set(0);
    this.flush();
    this.revoked.clear();
  }

  /**
   * Outage mode: the user cached for this key when coherence was lost, if that was at most
   * `cache.serveStaleOnOutageSeconds` ago. Only for use when the store cannot answer.
   */
  staleUser(key: string): UserRecord | undefined {
    const s = this.snapshot;
    if (!s || this.now() - s.at > this.config.cache.serveStaleOnOutageSeconds * 1000)
      return undefined;
    return s.users.get(key);
  }

  /** Outage mode: the deny-list as it was when coherence was lost (same bound). */
  staleRevoked(issuer: string, jti: string): boolean | undefined {
    const s = this.snapshot;
    if (!s || this.now() - s.at > this.config.cache.serveStaleOnOutageSeconds * 1000)
      return undefined;
    const expiresAt = s.revoked.get(`${issuer}\u0000${jti}`);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  /** Drops every cached answer (admin "flush caches"); the deny-list stays. */
  flush(): void {
    this.tokens.clear();
    this.users.clear();
    this.negative.clear();
    this.keysByUser.clear();
  }

  /** Entry counts, for diagnosis and tests. */
  sizes(): { tokens: number; users: number; negative: number; revoked: number } {
    return {
      tokens: this.tokens.size,
      users: this.users.size,
      negative: this.negative.size,
      revoked: this.revoked.size,
    };
  }
}
