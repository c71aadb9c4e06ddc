import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { SignJWT } from 'jose';
import { freePort, isPortInUse } from './ports';
import { makeKey, type SigningKey } from './token-factory';

/** Delivery method URNs (SSF 1.0 §7.1.1 / RFC 8935 / RFC 8936). */
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const SSF = 'https://schemas.openid.net/secevent/ssf/event-type/';

/** Event type URIs by short name, as a transmitter sends them. */
export const EVENT_TYPES = {
  'session-revoked': `${CAEP}session-revoked`,
  'credential-change': `${CAEP}credential-change`,
  'token-claims-change': `${CAEP}token-claims-change`,
  'assurance-level-change': `${CAEP}assurance-level-change`,
  'device-compliance-change': `${CAEP}device-compliance-change`,
  'risk-level-change': `${CAEP}risk-level-change`,
  'account-disabled': `${RISC}account-disabled`,
  'account-enabled': `${RISC}account-enabled`,
  'account-purged': `${RISC}account-purged`,
  'credential-compromise': `${RISC}credential-compromise`,
  'account-credential-change-required': `${RISC}account-credential-change-required`,
  'identifier-changed': `${RISC}identifier-changed`,
  'identifier-recycled': `${RISC}identifier-recycled`,
  verification: `${SSF}verification`,
  'stream-updated': `${SSF}stream-updated`,
} as const;

/** A subject identifier (RFC 9493), as loose as a transmitter may send it. */
export type SubjectId = Record<string, unknown> & { format: string };

export interface MintOptions {
  /** Defaults to the stream's audience (or the transmitter's default audience). */
  readonly aud?: string | string[];
  readonly iss?: string;
  readonly jti?: string;
  /** Seconds since epoch (default now). */
  readonly iat?: number;
  readonly txn?: string;
  /** Where the subject goes: SSF 1.0's top-level `sub_id` (default) or the event's `subject`. */
  readonly subjectIn?: 'sub_id' | 'event';
  /** Extra or overriding protected-header parameters (`typ: undefined` drops it). */
  readonly header?: Record<string, unknown>;
  /** Signs with another key (a forged SET). */
  readonly key?: SigningKey;
  /** Extra top-level claims, merged last (`events` with two members, for instance). */
  readonly claims?: Record<string, unknown>;
}

export interface EventSpec {
  /** A short name from {@link EVENT_TYPES} or a full event type URI. */
  readonly type: keyof typeof EVENT_TYPES | (string & {});
  readonly subject: SubjectId;
  /** The event's own members (`event_timestamp` defaults to now, `reason_admin`, …). */
  readonly payload?: Record<string, unknown>;
}

export interface StreamState {
  stream_id: string;
  iss: string;
  aud: string | string[];
  delivery: { method: string; endpoint_url?: string; authorization_header?: string };
  events_supported: string[];
  events_requested: string[];
  events_delivered: string[];
  description?: string;
  min_verification_interval: number;
  status: 'enabled' | 'paused' | 'disabled';
  reason?: string;
}

/** One poll request as the fixture received it. */
export interface PollRecord {
  readonly streamId: string;
  readonly at: number;
  readonly body: Record<string, unknown>;
  readonly delivered: string[];
  readonly remotePort: number | undefined;
}

export interface TransmitterOptions {
  /** The bearer token the receiver presents (default: random). */
  readonly bearer?: string;
  /** The audience SETs carry when no stream says otherwise. */
  readonly audience?: string;
  /** How long a poll with `returnImmediately: false` waits for a SET (default 500 ms). */
  readonly longPollMs?: number;
  /** An unacknowledged SET is delivered again this long after it was (default 2 s). */
  readonly redeliverAfterMs?: number;
  /** Delivery methods the discovery document lists (default push and poll). */
  readonly deliveryMethods?: string[];
}

/** A SET waiting for its poll; `control`: a stream event, delivered even while not enabled. */
interface QueuedSet {
  readonly jti: string;
  readonly set: string;
  readonly control: boolean;
  sentAt?: number;
}

type Failure = { mode: 'status'; status: number } | { mode: 'hang' };

const MAX_BODY = 1_048_576;

/** Stream events: sent whatever the stream's status. */
const CONTROL = { verification: true, 'stream-updated': true };

/**
 * A Shared Signals transmitter on 127.0.0.1 for the receiver's tests: its own signing keys and
 * JWKS, SSF 1.0 discovery (`/.well-known/ssf-configuration`), the stream configuration, status
 * and verification endpoints (§8.1), SETs minted for any CAEP / RISC / SSF event (RFC 8417,
 * subjects per RFC 9493), a poll endpoint (RFC 8936) that records acknowledgements and `setErrs`,
 * push delivery (RFC 8935), and failure modes (an HTTP status, a hang) for backoff tests. The
 * receiver authenticates with a bearer token; every endpoint but discovery and the JWKS checks it.
 */
export class SsfTransmitter {
  readonly bearer: string;
  readonly audience: string;
  /** Streams by id. */
  readonly streams = new Map<string, StreamState>();
  /** Every poll, in order. */
  readonly polls: PollRecord[] = [];
  /** jtis the receiver acknowledged (RFC 8936 `ack`), in order. */
  readonly acked: string[] = [];
  /** `setErrs` the receiver sent, by jti. */
  readonly setErrs = new Map<string, { err: string; description?: string }>();
  /** Requests per path (any method), for request counts. */
  readonly hits = new Map<string, number>();
  /** Polls in flight now, and the most ever in flight at once (one poller across replicas). */
  inFlightPolls = 0;
  maxConcurrentPolls = 0;
  /** Overrides merged into the discovery document (an `issuer` mismatch, a missing endpoint). */
  discoveryOverrides: Record<string, unknown> = {};
  /** Whether a second POST to the configuration endpoint is refused with 409 (default true). */
  singleStream = true;

  private server: Server | undefined;
  private base_ = '';
  private readonly queues = new Map<string, QueuedSet[]>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private failures = new Map<string, Failure>();
  private held: ServerResponse[] = [];
  private emitting: Promise<void> = Promise.resolve();

  private constructor(
    readonly key: SigningKey,
    private readonly options: TransmitterOptions,
  ) {
    this.bearer = options.bearer ?? randomBytes(24).toString('base64url');
    this.audience = options.audience ?? 'https://resolver.example/ssf';
  }

  static async start(options: TransmitterOptions = {}): Promise<SsfTransmitter> {
    const transmitter = new SsfTransmitter(await makeKey('ES256', `ssf-${randomUUID()}`), options);
    for (let attempt = 1; ; attempt++) {
      try {
        await transmitter.listen(await freePort());
        return transmitter;
      } catch (error) {
        if (attempt >= 3 || !isPortInUse(error)) throw error;
      }
    }
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.server = server;
        this.base_ = `http://127.0.0.1:${port}`;
        resolve();
      });
    });
  }

  /** The issuer, which is also the base URL of every endpoint. */
  get issuer(): string {
    return this.base_;
  }

  get jwks(): { keys: JWK[] } {
    return { keys: [this.key.publicJwk] };
  }

  get endpoints() {
    return {
      discovery: `${this.base_}/.well-known/ssf-configuration`,
      jwks: `${this.base_}/jwks`,
      configuration: `${this.base_}/ssf/streams`,
      status: `${this.base_}/ssf/status`,
      verification: `${this.base_}/ssf/verify`,
      poll: (streamId: string) => `${this.base_}/ssf/poll/${streamId}`,
    };
  }

  discoveryDocument(): Record<string, unknown> {
    const e = this.endpoints;
    return {
      spec_version: '1_0',
      issuer: this.issuer,
      jwks_uri: e.jwks,
      delivery_methods_supported: this.options.deliveryMethods ?? [PUSH, POLL],
      configuration_endpoint: e.configuration,
      status_endpoint: e.status,
      verification_endpoint: e.verification,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
      ...this.discoveryOverrides,
    };
  }

  async stop(): Promise<void> {
    this.releaseHeld();
    for (const w of [...this.waiters.values()].flat()) w();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }

  /** Makes `path` (or every path, `*`) answer `status` (default 503) until {@link recover}. */
  fail(path = '*', status = 503): void {
    this.failures.set(path, { mode: 'status', status });
  }

  /** Makes `path` (or every path) accept requests and never answer until {@link recover}. */
  hang(path = '*'): void {
    this.failures.set(path, { mode: 'hang' });
  }

  recover(): void {
    this.failures.clear();
    this.releaseHeld();
  }

  requests(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** Creates a stream directly, as an operator would at the transmitter's console. */
  createStream(input: Partial<StreamState> = {}): StreamState {
    const stream_id = input.stream_id ?? randomUUID();
    const supported: string[] = Object.values(EVENT_TYPES).filter((t) => !t.startsWith(SSF));
    const requested = input.events_requested ?? supported;
    const method = input.delivery?.method ?? POLL;
    const stream: StreamState = {
      stream_id,
      iss: this.issuer,
      aud: input.aud ?? this.audience,
      delivery:
        method === POLL
          ? { method, endpoint_url: this.endpoints.poll(stream_id) }
          : { ...input.delivery, method },
      events_supported: supported,
      events_requested: requested,
      events_delivered: requested.filter((t) => supported.includes(t)),
      description: input.description,
      min_verification_interval: 0,
      status: input.status ?? 'enabled',
      reason: input.reason,
    };
    this.streams.set(stream_id, stream);
    this.queues.set(stream_id, []);
    return stream;
  }

  /** The only stream, for tests that create one. */
  stream(): StreamState {
    const [first] = this.streams.values();
    if (!first) throw new Error('the transmitter has no stream');
    return first;
  }

  /** Signs a SET carrying exactly one event (unless `claims.events` says otherwise). */
  async mint(event: EventSpec, options: MintOptions = {}): Promise<{ jti: string; set: string }> {
    const jti = options.jti ?? randomUUID();
    const type =
      event.type in EVENT_TYPES ? EVENT_TYPES[event.type as keyof typeof EVENT_TYPES] : event.type;
    const payload: Record<string, unknown> = {
      event_timestamp: Math.floor(Date.now() / 1000),
      ...event.payload,
    };
    const claims: Record<string, unknown> = {
      iss: options.iss ?? this.issuer,
      aud: options.aud ?? this.audience,
      jti,
      iat: options.iat ?? Math.floor(Date.now() / 1000),
      ...(options.txn === undefined ? {} : { txn: options.txn }),
    };
    if (options.subjectIn === 'event') payload.subject = event.subject;
    else claims.sub_id = event.subject;
    claims.events = { [type]: payload };
    Object.assign(claims, options.claims);
    const key = options.key ?? this.key;
    const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'secevent+jwt' };
    for (const [name, value] of Object.entries(options.header ?? {})) {
      if (value === undefined) delete header[name];
      else header[name] = value;
    }
    const set = await new SignJWT(claims)
      .setProtectedHeader(header as { alg: string })
      .sign(key.privateKey);
    return { jti, set };
  }

  /** Mints a SET for the stream and queues it for polling; returns its jti. */
  async emit(event: EventSpec, options: MintOptions = {}, streamId?: string): Promise<string> {
    const stream = streamId === undefined ? this.stream() : this.streams.get(streamId);
    if (!stream) throw new Error(`no stream ${streamId}`);
    // Queued in the order emitted, though signing is asynchronous.
    const minting = this.mint(event, { aud: stream.aud, ...options });
    const queued = this.emitting.then(async () => {
      const minted = await minting;
      this.enqueue(stream.stream_id, minted.jti, minted.set, event.type in CONTROL);
      return minted.jti;
    });
    this.emitting = queued.then(
      () => undefined,
      () => undefined,
    );
    return queued;
  }

  /** Queues an already minted SET (a forged one, say) for polling. */
  enqueue(streamId: string, jti: string, set: string, control = false): void {
    const queue = this.queues.get(streamId);
    if (!queue) throw new Error(`no stream ${streamId}`);
    queue.push({ jti, set, control });
    for (const w of this.waiters.get(streamId)?.splice(0) ?? []) w();
  }

  /** SETs not yet acknowledged or refused, for the stream. */
  pending(streamId = this.stream().stream_id): number {
    return this.queues.get(streamId)?.length ?? 0;
  }

  /** Pushes a SET to a receiver (RFC 8935): the response's status and parsed body. */
  async push(
    url: string,
    set: string,
    authorization: string | undefined = `Bearer ${this.bearer}`,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {
      'content-type': 'application/secevent+jwt',
      accept: 'application/json',
    };
    if (authorization !== undefined) headers.authorization = authorization;
    const res = await fetch(url, { method: 'POST', headers, body: set, redirect: 'error' });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body };
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base_);
    const path = url.pathname;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const failure = this.failures.get(path) ?? this.failures.get('*');
    if (failure?.mode === 'hang') {
      this.held.push(res);
      return;
    }
    if (failure) {
      res.writeHead(failure.status).end();
      return;
    }
    try {
      if (path === '/.well-known/ssf-configuration' && req.method === 'GET')
        return json(res, 200, this.discoveryDocument());
      if (path === '/jwks' && req.method === 'GET') return json(res, 200, this.jwks);
      if (req.headers.authorization !== `Bearer ${this.bearer}`) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { err: 'authentication_failed' });
      }
      const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req);
      if (path === '/ssf/streams') return this.configuration(req.method, url, body, res);
      if (path === '/ssf/status') return this.status(req.method, url, body, res);
      if (path === '/ssf/verify' && req.method === 'POST') return await this.verify(body, res);
      const poll = /^\/ssf\/poll\/([^/]+)$/.exec(path);
      if (poll && req.method === 'POST') return await this.poll(poll[1] as string, body, req, res);
      json(res, 404, { error: 'not found' });
    } catch (error) {
      json(res, 400, { error: 'invalid_request', description: String((error as Error).message) });
    }
  }

  /** SSF 1.0 §8.1.1: create (POST), read (GET), update (PATCH), replace (PUT), delete. */
  private configuration(
    method: string | undefined,
    url: URL,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): void {
    const id = url.searchParams.get('stream_id') ?? (body.stream_id as string | undefined);
    if (method === 'POST') {
      if (this.singleStream && this.streams.size > 0)
        return json(res, 409, { error: 'stream_exists' });
      const delivery = (body.delivery ?? {}) as StreamState['delivery'];
      if (![PUSH, POLL].includes(delivery.method))
        return json(res, 400, { error: 'invalid_request', description: 'delivery.method' });
      return json(
        res,
        201,
        this.publicStream(
          this.createStream({
            delivery,
            events_requested: body.events_requested as string[] | undefined,
            description: body.description as string | undefined,
          }),
        ),
      );
    }
    if (method === 'GET' && id === undefined)
      return json(
        res,
        200,
        [...this.streams.values()].map((s) => this.publicStream(s)),
      );
    const stream = id === undefined ? undefined : this.streams.get(id);
    if (!stream) return json(res, 404, { error: 'not_found' });
    if (method === 'GET') return json(res, 200, this.publicStream(stream));
    if (method === 'DELETE') {
      this.streams.delete(stream.stream_id);
      this.queues.delete(stream.stream_id);
      res.writeHead(204).end();
      return;
    }
    if (method === 'PATCH' || method === 'PUT') {
      if (Array.isArray(body.events_requested)) {
        stream.events_requested = body.events_requested as string[];
        stream.events_delivered = stream.events_requested.filter((t) =>
          stream.events_supported.includes(t),
        );
      }
      if (typeof body.description === 'string') stream.description = body.description;
      return json(res, 200, this.publicStream(stream));
    }
    json(res, 405, { error: 'method not allowed' });
  }

  /** SSF 1.0 §8.1.2: read (GET) or update (POST) a stream's status; an update emits stream-updated. */
  private status(
    method: string | undefined,
    url: URL,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): void {
    const id = url.searchParams.get('stream_id') ?? (body.stream_id as string | undefined);
    const stream = id === undefined ? undefined : this.streams.get(id);
    if (!stream) return json(res, 404, { error: 'not_found' });
    if (method === 'POST') {
      if (!['enabled', 'paused', 'disabled'].includes(body.status as string))
        return json(res, 400, { error: 'invalid_request', description: 'status' });
      this.setStatus(stream.stream_id, body.status as StreamState['status'], body.reason as string);
    } else if (method !== 'GET') return json(res, 405, {});
    json(res, 200, {
      stream_id: stream.stream_id,
      status: stream.status,
      ...(stream.reason === undefined ? {} : { reason: stream.reason }),
    });
  }

  /** Changes a stream's status at the transmitter and queues a `stream-updated` SET for it. */
  setStatus(streamId: string, status: StreamState['status'], reason?: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) throw new Error(`no stream ${streamId}`);
    stream.status = status;
    stream.reason = reason;
    void this.emit(
      {
        type: 'stream-updated',
        subject: { format: 'opaque', id: streamId },
        payload: { status, ...(reason === undefined ? {} : { reason }) },
      },
      {},
      streamId,
    );
  }

  /** SSF 1.0 §8.1.4: 204, then a `verification` SET carrying the requested state. */
  private async verify(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const stream = this.streams.get(body.stream_id as string);
    if (!stream) return json(res, 404, { error: 'not_found' });
    const state = typeof body.state === 'string' ? { state: body.state } : {};
    await this.emit(
      { type: 'verification', subject: { format: 'opaque', id: stream.stream_id }, payload: state },
      {},
      stream.stream_id,
    );
    res.writeHead(204).end();
  }

  /** RFC 8936 §2.4: acknowledge, record errors, answer up to `maxEvents` SETs. */
  private async poll(
    streamId: string,
    body: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const queue = this.queues.get(streamId);
    if (!queue) return json(res, 404, { error: 'not_found' });
    this.inFlightPolls++;
    this.maxConcurrentPolls = Math.max(this.maxConcurrentPolls, this.inFlightPolls);
    try {
      for (const jti of Array.isArray(body.ack) ? (body.ack as string[]) : []) {
        this.acked.push(jti);
        this.drop(queue, jti);
      }
      const errs = body.setErrs;
      if (errs && typeof errs === 'object') {
        for (const [jti, e] of Object.entries(errs as Record<string, { err: string }>)) {
          this.setErrs.set(jti, e);
          this.drop(queue, jti);
        }
      }
      const max = typeof body.maxEvents === 'number' ? body.maxEvents : 100;
      const stream = this.streams.get(streamId);
      // A stream not enabled delivers only its own events (stream-updated, verification).
      const controlOnly = stream?.status !== 'enabled';
      let deliver = max > 0 ? this.due(queue, max, controlOnly) : [];
      // RFC 8936 §2.4: `returnImmediately` defaults to false, a long poll.
      if (deliver.length === 0 && max > 0 && body.returnImmediately !== true) {
        await this.waitFor(streamId, this.options.longPollMs ?? 500);
        deliver = this.due(queue, max, stream?.status !== 'enabled');
      }
      const now = Date.now();
      for (const item of deliver) item.sentAt = now;
      this.polls.push({
        streamId,
        at: now,
        body,
        delivered: deliver.map((d) => d.jti),
        remotePort: req.socket.remotePort,
      });
      json(res, 200, {
        sets: Object.fromEntries(deliver.map((d) => [d.jti, d.set])),
        moreAvailable: this.due(queue, 1, controlOnly).length > 0,
      });
    } finally {
      this.inFlightPolls--;
    }
  }

  /** SETs never sent, or sent long enough ago without an answer. */
  private due(queue: QueuedSet[], max: number, controlOnly = false) {
    const cutoff = Date.now() - (this.options.redeliverAfterMs ?? 2_000);
    return queue
      .filter((q) => (q.sentAt === undefined || q.sentAt <= cutoff) && (q.control || !controlOnly))
      .slice(0, max);
  }

  private drop(queue: { jti: string }[], jti: string): void {
    const i = queue.findIndex((q) => q.jti === jti);
    if (i >= 0) queue.splice(i, 1);
  }

  private waitFor(streamId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const list = this.waiters.get(streamId) ?? [];
      list.push(done);
      this.waiters.set(streamId, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private publicStream(s: StreamState): Omit<StreamState, 'status' | 'reason'> {
    const { status: _status, reason: _reason, ...rest } = s;
    return rest;
  }

  private releaseHeld(): void {
    for (const res of this.held.splice(0)) if (!res.writableEnded) res.writeHead(503).end();
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('body is not a JSON object');
  return parsed as Record<string, unknown>;
}
