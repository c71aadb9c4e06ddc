import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IntrospectionConfig } from '@resolver/config';
import type { Clock } from '@resolver/observability';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { own } from '../compact-token';
import type { ClientAuthenticator } from './client-auth';
import {
  type IntrospectionVerdict,
  readIntrospectionAnswer,
  unavailable,
  verdictOf,
} from './introspection-answer';
import { SIGNED_ANSWER_TYPE, type VerifySignedAnswer } from './signed-answer';

/** One POST to the endpoint: status, content type and body (bounded), or a thrown failure. */
export interface EndpointResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}
/** Sends one introspection request (the real one is {@link postForm}; specs fake it). */
export type SendForm = (
  url: string,
  headers: Record<string, string>,
  form: URLSearchParams,
  limits: { readonly timeoutMs: number; readonly maxBytes: number },
) => Promise<EndpointResponse>;

/** An active answer, as the pipeline uses it. */
export interface IntrospectedToken {
  /** The answer's members, own data in null-prototype objects (`active` included). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the endpoint gave this answer (epoch ms). */
  readonly answeredAtMs: number;
  /** Until when it may be used as fresh: min(exp, answered + cacheCapSeconds). */
  readonly freshUntilMs: number;
  /** From the cache (no request was made for this call). */
  readonly cached: boolean;
  /** Served from the cache past its cap because the endpoint is failing (within `exp`). */
  readonly stale: boolean;
}

/** What the diagnosis reports: the answer (or refusal), whether cached, and the endpoint. */
export interface IntrospectionFinding {
  readonly active: boolean | undefined;
  readonly cached: boolean;
  readonly stale: boolean;
  /** Whether the endpoint answered (undefined: not asked, the cache answered). */
  readonly reachable: boolean | undefined;
  readonly endpoint: string | undefined;
  readonly clientAuth: string;
}

type Entry =
  | { readonly active: true; readonly token: IntrospectedToken; readonly usableUntilMs: number }
  | { readonly active: false; readonly untilMs: number };

/** Answers cached per issuer, at most (oldest answers go first). */
export const MAX_CACHED_ANSWERS = 10_000;

/**
 * One issuer's RFC 7662 introspection client. Asks only this issuer's endpoint (configured, or
 * its own discovery document's), authenticated as this issuer's client; the token goes in the
 * form body and nowhere else (never in a URL, a log line or a span). Answers are remembered by
 * the token's SHA-256 (the caller's hash, never the token):
 * - active: until min(`exp`, answered + `cacheCapSeconds`); after that it is asked again, and
 *   only while the endpoint is failing is the old answer used, and only within its own `exp`;
 * - inactive: for `negativeCacheSeconds`.
 * Concurrent requests for one token share one call (single flight); at most `maxConcurrent`
 * calls are in flight, more wait; each call, waiting included, is bounded by `timeoutMs`.
 */
export class IntrospectionClient {
  /**
   * Answers by token hash, in two generations: an answer goes into `answers`; once that holds
   * half the bound it becomes `older` (dropping the previous older half) and a new one starts.
   * So at most MAX_CACHED_ANSWERS are held and the oldest half goes first, with no walk over a
   * Map's order: taking a Map's first key walks every deleted slot before it until the Map
   * rehashes, ~10 µs per new token at 10,000 answers (the same walk cost the resolver's token
   * cache that much; libs/resolution's ttl-cache.ts).
   */
  private answers = new Map<string, Entry>();
  private older = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<IntrospectionVerdict>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private lastError: string | undefined;
  private lastReachable: boolean | undefined;

  constructor(
    readonly issuer: string,
    readonly config: IntrospectionConfig,
    private readonly endpoint: () => Promise<string>,
    private readonly auth: ClientAuthenticator,
    private readonly clock: Clock,
    private readonly send: SendForm,
    /** RFC 9701 (`signedResponses`): reads a signed answer with the issuer's keys. */
    private readonly verifySigned?: VerifySignedAnswer,
  ) {}

  /** Whether an opaque token is this issuer's by its configured prefix (none: every token). */
  accepts(token: string): boolean {
    return this.config.prefix === undefined || token.startsWith(this.config.prefix);
  }

  /**
   * The endpoint's (or the cache's) active answer for a token; TOKEN_INACTIVE for an inactive
   * one; INTROSPECTION_UNAVAILABLE when no usable answer can be had. `peek` (diagnosis): the
   * cache is read but never written.
   */
  async introspect(token: string, hash: string, peek = false): Promise<IntrospectedToken> {
    const now = this.clock.nowMs();
    const entry = this.answerFor(hash);
    if (entry?.active === false && entry.untilMs > now)
      throw new ResolutionError('TOKEN_INACTIVE', 'the endpoint answered active: false (cached)');
    if (entry?.active === true && entry.token.freshUntilMs > now)
      return { ...entry.token, cached: true, stale: false };
    let verdict: IntrospectionVerdict;
    try {
      verdict = await this.ask(token, hash);
    } catch (error) {
      // An outage, never a refusal: an earlier active answer still within its `exp` stands in.
      if (
        isResolutionError(error) &&
        error.reason === 'INTROSPECTION_UNAVAILABLE' &&
        entry?.active === true &&
        entry.usableUntilMs > this.clock.nowMs()
      )
        return { ...entry.token, cached: true, stale: true };
      throw error;
    }
    const answeredAtMs = this.clock.nowMs();
    if (!verdict.active) {
      if (!peek) this.remember(hash, { active: false, untilMs: answeredAtMs + this.negativeMs() });
      throw new ResolutionError('TOKEN_INACTIVE', 'the endpoint answered active: false');
    }
    const exp = own(verdict.claims, 'exp');
    const expMs = typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
    const capped = answeredAtMs + this.config.cacheCapSeconds * 1000;
    const introspected: IntrospectedToken = {
      claims: verdict.claims,
      answeredAtMs,
      freshUntilMs: Math.min(expMs ?? capped, capped),
      cached: false,
      stale: false,
    };
    // Without an `exp` an answer is never used past its cap, not even in an outage.
    if (!peek)
      this.remember(hash, {
        active: true,
        token: introspected,
        usableUntilMs: expMs ?? introspected.freshUntilMs,
      });
    return introspected;
  }

  /** Whether an answer for this token hash is held and still fresh (no request would be made). */
  hasFreshAnswer(hash: string): boolean {
    const entry = this.answerFor(hash);
    const now = this.clock.nowMs();
    return entry !== undefined && (entry.active ? entry.token.freshUntilMs : entry.untilMs) > now;
  }

  /** What the diagnosis can say about the endpoint without asking it. */
  state(): { readonly lastError?: string; readonly reachable: boolean | undefined } {
    return { lastError: this.lastError, reachable: this.lastReachable };
  }

  /** How the resolver authenticates here, for messages (never a secret). */
  get clientAuth(): string {
    return this.auth.describe;
  }

  private negativeMs(): number {
    return this.config.negativeCacheSeconds * 1000;
  }

  private answerFor(hash: string): Entry | undefined {
    return this.answers.get(hash) ?? this.older.get(hash);
  }

  private remember(hash: string, entry: Entry): void {
    this.older.delete(hash); // one answer per token: the newest
    this.answers.set(hash, entry);
    if (this.answers.size >= MAX_CACHED_ANSWERS / 2) {
      this.older = this.answers;
      this.answers = new Map();
    }
  }

  /** Answers held (for tests): at most MAX_CACHED_ANSWERS. */
  get heldAnswers(): number {
    return this.answers.size + this.older.size;
  }

  /** One call per token at a time: concurrent requests for it share the first one's. */
  private ask(token: string, hash: string): Promise<IntrospectionVerdict> {
    let call = this.inflight.get(hash);
    if (!call) {
      call = this.call(token).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, call);
    }
    return call;
  }

  private async call(token: string): Promise<IntrospectionVerdict> {
    const deadline = Date.now() + this.config.timeoutMs;
    await this.acquire(deadline);
    try {
      const url = await this.endpoint();
      const timeoutMs = Math.max(1, deadline - Date.now());
      const request = await this.auth.request(url, Math.floor(this.clock.nowMs() / 1000));
      const { form } = request;
      const headers = this.config.signedResponses
        ? { ...request.headers, accept: SIGNED_ANSWER_TYPE }
        : request.headers;
      const body = new URLSearchParams({ ...form, token });
      if (this.config.tokenTypeHint) body.set('token_type_hint', this.config.tokenTypeHint);
      let response: EndpointResponse;
      try {
        response = await this.send(url, headers, body, {
          timeoutMs,
          maxBytes: this.config.maxResponseBytes,
        });
      } catch (error) {
        this.lastReachable = false;
        throw unavailable(`introspection endpoint of ${this.issuer}: ${describe(error)}`);
      }
      this.lastReachable = true;
      const verdict = await this.verdictOf(response);
      this.lastError = undefined;
      return verdict;
    } catch (error) {
      this.lastError = (error as Error).message;
      if (isResolutionError(error)) throw error;
      // Discovery could not name the endpoint, or the assertion could not be signed.
      throw unavailable(`introspection endpoint of ${this.issuer}: ${describe(error)}`);
    } finally {
      this.release();
    }
  }

  private async verdictOf(response: EndpointResponse): Promise<IntrospectionVerdict> {
    const { status } = response;
    if (status === 401 || status === 403 || status === 400)
      // RFC 7662 §2.3 / RFC 6749 §5.2: the endpoint refused *us* (invalid_client): the
      // configured client authentication is wrong. A configuration fault, reported as an
      // outage naming the client authentication, never as the caller's token being bad.
      throw unavailable(
        `introspection endpoint of ${this.issuer} refused the resolver's client authentication (${this.auth.describe}): HTTP ${status}; check issuers[].introspection.clientAuth`,
      );
    if (status !== 200)
      throw unavailable(`introspection endpoint of ${this.issuer} answered HTTP ${status}`);
    if (this.config.signedResponses) {
      // Only a signed answer is read: a plain JSON one could come from anyone on the way.
      if (
        !/^application\/token-introspection\+jwt(\s*;|$)/i.test(response.contentType) ||
        !this.verifySigned
      )
        throw unavailable(
          `introspection endpoint of ${this.issuer} answered ${JSON.stringify(response.contentType.slice(0, 64))}, not a signed answer (${SIGNED_ANSWER_TYPE})`,
        );
      return verdictOf(await this.verifySigned(response.body.trim(), this.config.maxResponseBytes));
    }
    if (!/^application\/json(\s*;|$)/i.test(response.contentType))
      throw unavailable(
        `introspection endpoint of ${this.issuer} answered ${JSON.stringify(response.contentType.slice(0, 64))}, not application/json`,
      );
    return readIntrospectionAnswer(response.body);
  }

  /** Waits for a free call slot until `deadline` (epoch ms); INTROSPECTION_UNAVAILABLE after. */
  private acquire(deadline: number): Promise<void> {
    if (this.running < this.config.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.running++;
        resolve();
      };
      const timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(grant);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(
            unavailable(
              `introspection endpoint of ${this.issuer}: ${this.config.maxConcurrent} calls in flight for ${this.config.timeoutMs} ms`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      timer.unref();
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
    const named = typeof code === 'string' ? code : cause?.code;
    return typeof named === 'string' && !error.message.includes(named)
      ? `${error.message} (${named})`
      : error.message;
  }
  return String(error);
}

/** Keep-alive connections to the endpoints: one TLS handshake per connection, not per call. */
const AGENTS = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 1_024 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 1_024 }),
};
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * POSTs the form with a hard timeout (connect, send and the whole answer), reading at most
 * `maxBytes` of the answer: a larger one is refused before it is all read. Redirects are not
 * followed: the token goes to the configured endpoint or nowhere. On `node:http(s)` with
 * keep-alive agents rather than `fetch`: a call costs a fraction of the CPU (the bench's opaque
 * row), and the calls in flight are bounded by the client anyway.
 */
export const postForm: SendForm = (url, headers, form, { timeoutMs, maxBytes }) =>
  new Promise<EndpointResponse>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const body = form.toString();
    const request = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: secure ? AGENTS.https : AGENTS.http,
        headers: {
          accept: 'application/json',
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            request.destroy();
            reject(new Error(`answer larger than ${maxBytes} bytes`));
          } else chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          let text: string;
          try {
            text = utf8.decode(Buffer.concat(chunks));
          } catch {
            return reject(new Error('answer is not UTF-8'));
          }
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body: text,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
