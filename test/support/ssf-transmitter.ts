import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { freePort, isPortInUse } from './ports';
import {
  CONTROL_EVENTS,
  EVENT_TYPES,
  type EventSpec,
  json,
  type MintOptions,
  mintSet,
  POLL,
  PUSH,
  pushSet,
  readJson,
} from './ssf-events';
import { SetQueue } from './ssf-set-queue';
import {
  configurationEndpoint,
  statusEndpoint,
  verificationEndpoint,
} from './ssf-stream-endpoints';
import { makeKey, type SigningKey } from './token-factory';

export {
  EVENT_TYPES,
  POLL,
  PUSH,
  type EventSpec,
  type MintOptions,
  type SubjectId,
} from './ssf-events';

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

type Failure = { mode: 'status'; status: number } | { mode: 'hang' };

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
  private readonly queues = new Map<string, SetQueue>();
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
    for (const q of this.queues.values()) q.wake();
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
    const supported: string[] = Object.values(EVENT_TYPES).filter((t) => !t.includes('/ssf/'));
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
    this.queues.set(stream_id, new SetQueue(this.options.redeliverAfterMs ?? 2_000));
    return stream;
  }

  /** The only stream, for tests that create one. */
  stream(): StreamState {
    const [first] = this.streams.values();
    if (!first) throw new Error('the transmitter has no stream');
    return first;
  }

  /** Deletes a stream and its queued SETs. */
  removeStream(streamId: string): void {
    this.streams.delete(streamId);
    this.queues.delete(streamId);
  }

  /** Signs a SET carrying exactly one event (unless `claims.events` says otherwise). */
  mint(event: EventSpec, options: MintOptions = {}): Promise<{ jti: string; set: string }> {
    return mintSet(this.key, { iss: this.issuer, aud: this.audience }, event, options);
  }

  /** Mints a SET for the stream and queues it for polling; returns its jti. */
  async emit(event: EventSpec, options: MintOptions = {}, streamId?: string): Promise<string> {
    const stream = streamId === undefined ? this.stream() : this.streams.get(streamId);
    if (!stream) throw new Error(`no stream ${streamId}`);
    // Queued in the order emitted, though signing is asynchronous.
    const minting = this.mint(event, { aud: stream.aud, ...options });
    const queued = this.emitting.then(async () => {
      const minted = await minting;
      this.enqueue(stream.stream_id, minted.jti, minted.set, event.type in CONTROL_EVENTS);
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
    queue.add(jti, set, control);
  }

  /** SETs not yet acknowledged or refused, for the stream. */
  pending(streamId = this.stream().stream_id): number {
    return this.queues.get(streamId)?.size ?? 0;
  }

  /** Pushes a SET to a receiver (RFC 8935): the response's status and parsed body. */
  push(url: string, set: string, authorization: string | undefined = `Bearer ${this.bearer}`) {
    return pushSet(url, set, authorization);
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
      if (path === '/ssf/streams') return configurationEndpoint(this, req.method, url, body, res);
      if (path === '/ssf/status') return statusEndpoint(this, req.method, url, body, res);
      if (path === '/ssf/verify' && req.method === 'POST')
        return await verificationEndpoint(this, body, res);
      const poll = /^\/ssf\/poll\/([^/]+)$/.exec(path);
      if (poll && req.method === 'POST') return await this.poll(poll[1] as string, body, req, res);
      json(res, 404, { error: 'not found' });
    } catch (error) {
      json(res, 400, { error: 'invalid_request', description: String((error as Error).message) });
    }
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
        queue.drop(jti);
      }
      const errs = body.setErrs;
      if (errs && typeof errs === 'object') {
        for (const [jti, e] of Object.entries(errs as Record<string, { err: string }>)) {
          this.setErrs.set(jti, e);
          queue.drop(jti);
        }
      }
      const max = typeof body.maxEvents === 'number' ? body.maxEvents : 100;
      const stream = this.streams.get(streamId);
      // A stream not enabled delivers only its own events (stream-updated, verification).
      const controlOnly = stream?.status !== 'enabled';
      let deliver = max > 0 ? queue.due(max, controlOnly) : [];
      // RFC 8936 §2.4: `returnImmediately` defaults to false, a long poll.
      if (deliver.length === 0 && max > 0 && body.returnImmediately !== true) {
        await queue.waitFor(this.options.longPollMs ?? 500);
        deliver = queue.due(max, stream?.status !== 'enabled');
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
        moreAvailable: queue.due(1, controlOnly).length > 0,
      });
    } finally {
      this.inFlightPolls--;
    }
  }

  private releaseHeld(): void {
    for (const res of this.held.splice(0)) if (!res.writableEnded) res.writeHead(503).end();
  }
}
