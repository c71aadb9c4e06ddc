import { isHttpUrl } from './ssf-discovery';
import {
  isObject,
  member,
  TransmitterError,
  type TransmitterFetch,
  transmitterFetch,
} from './transmitter-http';

export const STREAM_STATUSES = ['enabled', 'paused', 'disabled'] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

/** A stream's configuration as the transmitter answers it (SSF 1.0 §8.1.1), the parts used. */
export interface StreamConfiguration {
  readonly streamId: string;
  readonly deliveryMethod: string;
  /** Poll: the transmitter's poll URL. Push: the receiver's URL it pushes to. */
  readonly endpointUrl?: string;
  readonly eventsRequested: readonly string[];
  readonly eventsDelivered: readonly string[];
  readonly description?: string;
}

export interface StreamStatusAnswer {
  readonly status: StreamStatus;
  readonly reason?: string;
}

/** The transmitter's management endpoints and the receiver's credential for them. */
export interface StreamEndpoints {
  readonly configurationEndpoint?: string;
  readonly statusEndpoint?: string;
  readonly verificationEndpoint?: string;
  /** The `Authorization` header value; never logged. */
  readonly authorization?: string;
  readonly timeoutMs: number;
}

export interface CreateStreamRequest {
  readonly deliveryMethod: string;
  /** Push only: where the transmitter pushes, and the header it sends. */
  readonly endpointUrl?: string;
  readonly eventsRequested: readonly string[];
  readonly description?: string;
}

const MAX_ID = 256;
const MAX_REASON = 1_024;
const MAX_EVENTS = 256;

/**
 * The receiver's side of SSF 1.0 §8 stream management: create or read the stream, read and
 * update its status, request verification. Every answer is checked before it is believed
 * (an unknown status, a stream id that is not a bounded string, an endpoint that is not http(s)
 * are `malformed`); members are read as own data only.
 */
export class SsfStreamClient {
  constructor(
    private readonly endpoints: StreamEndpoints,
    private readonly fetchJson: TransmitterFetch = transmitterFetch,
  ) {}

  /** Every stream the transmitter holds for this receiver (GET without `stream_id`). */
  async list(): Promise<StreamConfiguration[]> {
    const { body } = await this.call('GET', this.configuration());
    // SSF 1.0 answers an array; a transmitter with one stream per receiver may answer the object.
    const items = Array.isArray(body) ? body : body === undefined ? [] : [body];
    if (items.length > 100) throw this.malformed('more than 100 streams');
    return items.map((item) => this.stream(item));
  }

  async read(streamId: string): Promise<StreamConfiguration | undefined> {
    try {
      const { body } = await this.call('GET', withStreamId(this.configuration(), streamId));
      return this.stream(body);
    } catch (error) {
      if (error instanceof TransmitterError && error.status === 404) return undefined;
      throw error;
    }
  }

  async create(request: CreateStreamRequest): Promise<StreamConfiguration> {
    const delivery: Record<string, unknown> = { method: request.deliveryMethod };
    if (request.endpointUrl !== undefined) delivery.endpoint_url = request.endpointUrl;
    const { body } = await this.call('POST', this.configuration(), {
      delivery,
      events_requested: request.eventsRequested,
      ...(request.description === undefined ? {} : { description: request.description }),
    });
    return this.stream(body);
  }

  async readStatus(streamId: string): Promise<StreamStatusAnswer> {
    const { body } = await this.call('GET', withStreamId(this.statusUrl(), streamId));
    return this.status(body);
  }

  async updateStatus(
    streamId: string,
    status: StreamStatus,
    reason?: string,
  ): Promise<StreamStatusAnswer> {
    const { body } = await this.call('POST', this.statusUrl(), {
      stream_id: streamId,
      status,
      ...(reason === undefined ? {} : { reason }),
    });
    // A transmitter may answer 204 with no body: the status asked for is then the status.
    return body === undefined ? { status, reason } : this.status(body);
  }

  /** Asks for a `verification` SET carrying `state` (SSF 1.0 §8.1.4). */
  async requestVerification(streamId: string, state: string): Promise<void> {
    const url = this.endpoints.verificationEndpoint;
    if (url === undefined) throw this.missing('verification_endpoint');
    await this.call('POST', url, { stream_id: streamId, state });
  }

  private configuration(): string {
    const url = this.endpoints.configurationEndpoint;
    if (url === undefined) throw this.missing('configuration_endpoint');
    return url;
  }

  private statusUrl(): string {
    const url = this.endpoints.statusEndpoint;
    if (url === undefined) throw this.missing('status_endpoint');
    return url;
  }

  private call(method: 'GET' | 'POST', url: string, body?: unknown) {
    return this.fetchJson({
      method,
      url,
      body,
      authorization: this.endpoints.authorization,
      timeoutMs: this.endpoints.timeoutMs,
    });
  }

  private stream(value: unknown): StreamConfiguration {
    if (!isObject(value)) throw this.malformed('a stream configuration is not a JSON object');
    const streamId = member(value, 'stream_id');
    if (typeof streamId !== 'string' || streamId === '' || streamId.length > MAX_ID)
      throw this.malformed('stream_id is not a string of 1 to 256 characters');
    const delivery = member(value, 'delivery');
    const method = member(delivery, 'method');
    if (typeof method !== 'string') throw this.malformed('delivery.method is not a string');
    const endpointUrl = member(delivery, 'endpoint_url');
    if (endpointUrl !== undefined && (typeof endpointUrl !== 'string' || !isHttpUrl(endpointUrl)))
      throw this.malformed('delivery.endpoint_url is not an http(s) URL');
    const description = member(value, 'description');
    return {
      streamId,
      deliveryMethod: method,
      endpointUrl,
      eventsRequested: this.events(value, 'events_requested'),
      eventsDelivered: this.events(value, 'events_delivered'),
      description: typeof description === 'string' ? description.slice(0, MAX_REASON) : undefined,
    };
  }

  private events(value: Record<string, unknown>, name: string): string[] {
    const list = member(value, name);
    if (list === undefined) return [];
    if (!Array.isArray(list) || list.length > MAX_EVENTS)
      throw this.malformed(`${name} is not a list of at most ${MAX_EVENTS} event types`);
    return list.filter((t): t is string => typeof t === 'string' && t.length <= MAX_ID);
  }

  private status(value: unknown): StreamStatusAnswer {
    const status = member(value, 'status');
    if (!STREAM_STATUSES.includes(status as StreamStatus))
      throw this.malformed(`status ${JSON.stringify(status)} is not enabled, paused or disabled`);
    const reason = member(value, 'reason');
    return {
      status: status as StreamStatus,
      reason: typeof reason === 'string' ? reason.slice(0, MAX_REASON) : undefined,
    };
  }

  private malformed(what: string): TransmitterError {
    return new TransmitterError('malformed', `the transmitter's answer: ${what}`);
  }

  private missing(name: string): TransmitterError {
    return new TransmitterError(
      'malformed',
      `the transmitter has no ${name} (configure it or turn discovery on)`,
    );
  }
}

function withStreamId(url: string, streamId: string): string {
  const u = new URL(url);
  u.searchParams.set('stream_id', streamId);
  return u.toString();
}
