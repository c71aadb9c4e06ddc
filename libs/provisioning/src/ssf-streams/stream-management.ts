import { randomBytes } from 'node:crypto';
import { SSF_EVENT_URIS, type SsfTransmitterConfig } from '@resolver/config';
import type {
  SsfStreamRecord,
  SsfStreamRepository,
  StreamStatus,
  TransmitterState,
  TransmitterStateRepository,
} from '@resolver/identity';
import {
  discoverTransmitter,
  type PollTarget,
  SSF_POLL_METHOD,
  SSF_PUSH_METHOD,
  type StreamConfiguration,
  type StreamEndpoints,
  SsfStreamClient,
  TransmitterError,
  type TransmitterFetch,
  transmitterFetch,
} from '@resolver/tokens';
import { AdminError } from '../admin/admin-error';

/**
 * What the admin API and CLI show of a stream: the stream as recorded (id, delivery, the poller's
 * bookkeeping), its state (status and verification, as the receiver records them) and, when the
 * transmitter was asked, its live configuration.
 */
export interface StreamManagementView {
  readonly transmitter: string;
  readonly record: SsfStreamRecord | undefined;
  readonly state: TransmitterState | null;
  readonly stream?: StreamConfiguration;
}

/** How long one management call to a transmitter may take. */
const MANAGEMENT_TIMEOUT_MS = 5_000;

/**
 * SSF 1.0 §8 stream management, the receiver's side: discover the transmitter (its `issuer`
 * must be the configured one), create or read the stream with the delivery method and events
 * configured, read and update its status, request verification, and reflect `stream-updated`
 * and `verification` events; every outcome is recorded in `ssf_streams`, where every replica
 * and the console read it. Thin over {@link SsfStreamClient} (HTTP) and the repository.
 */
export class SsfStreamManagement {
  private readonly byName: ReadonlyMap<string, SsfTransmitterConfig>;
  /** Discovered endpoints per transmitter (read once, again after a failure). */
  private readonly discovered = new Map<string, Promise<StreamEndpoints>>();
  /** An ensure under way per transmitter. */
  private readonly ensuring = new Map<string, Promise<StreamManagementView>>();

  constructor(
    transmitters: readonly SsfTransmitterConfig[],
    private readonly streams: SsfStreamRepository,
    private readonly states: TransmitterStateRepository,
    private readonly now: () => Date,
    private readonly fetchJson: TransmitterFetch = transmitterFetch,
  ) {
    this.byName = new Map(transmitters.map((t) => [t.name, t]));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  transmitter(name: string): SsfTransmitterConfig {
    const t = this.byName.get(name);
    if (!t)
      throw new AdminError('NOT_FOUND', `no transmitter named ${JSON.stringify(name)}`, 'name');
    return t;
  }

  /** Every configured transmitter's record (no call to a transmitter). */
  async list(): Promise<StreamManagementView[]> {
    const records = new Map((await this.streams.list()).map((r) => [r.transmitter, r]));
    const states = new Map((await this.states.list()).map((s) => [s.name, s]));
    return this.names().map((transmitter) => ({
      transmitter,
      record: records.get(transmitter),
      state: states.get(transmitter) ?? null,
    }));
  }

  /** The recorded stream, read again at the transmitter (configuration and status). */
  async read(name: string): Promise<StreamManagementView> {
    this.transmitter(name);
    const record = await this.streams.get(name);
    if (record?.streamId === undefined)
      return { transmitter: name, record, state: await this.states.get(name) };
    const client = await this.client(name);
    const stream = await upstream(() => client.read(record.streamId as string));
    if (stream) {
      await this.streams.saveStream(name, stream, this.now());
      const status = await upstream(() => client.readStatus(stream.streamId));
      await this.states.recordStatus(name, status.status, status.reason ?? null, this.now());
    }
    return this.view(name, stream);
  }

  /**
   * Creates the stream, or reads the one the transmitter already holds for this receiver: the
   * recorded id first, then the transmitter's list (a stream with the configured delivery
   * method), and only then a new one.
   */
  async ensure(name: string): Promise<StreamManagementView> {
    const t = this.transmitter(name);
    // One at a time per transmitter in this process (the poller's first cycle and an operator
    // asking at once would otherwise both create).
    const running = this.ensuring.get(name);
    if (running) await running.catch(() => undefined);
    const work = this.ensureOnce(t);
    this.ensuring.set(name, work);
    try {
      return await work;
    } finally {
      if (this.ensuring.get(name) === work) this.ensuring.delete(name);
    }
  }

  private async ensureOnce(t: SsfTransmitterConfig): Promise<StreamManagementView> {
    const name = t.name;
    const client = await this.client(name);
    const record = await this.streams.get(name);
    const method = deliveryMethod(t);
    const held = async () =>
      (await upstream(() => client.list())).find((s) => s.deliveryMethod === method);
    let stream =
      record?.streamId === undefined
        ? undefined
        : await upstream(() => client.read(record.streamId as string));
    stream ??= await held();
    if (!stream) {
      try {
        stream = await client.create({
          deliveryMethod: method,
          endpointUrl: method === SSF_PUSH_METHOD ? this.pushUrl(t) : undefined,
          eventsRequested: eventsRequested(t),
          description: t.stream.description,
        });
      } catch (error) {
        // 409: another replica created it meanwhile (SSF 1.0 §8.1.1.1); adopt that one.
        const created = error instanceof TransmitterError && error.status === 409;
        stream = created ? await held() : undefined;
        if (!stream) return upstream(() => Promise.reject(error as Error));
      }
    }
    await this.streams.saveStream(name, stream, this.now());
    const found = stream;
    const status = await upstream(() => client.readStatus(found.streamId));
    await this.states.recordStatus(name, status.status, status.reason ?? null, this.now());
    return this.view(name, stream);
  }

  /** Asks the transmitter for a status (SSF 1.0 §8.1.2.2) and records its answer. */
  async setStatus(
    name: string,
    status: StreamStatus,
    reason?: string,
  ): Promise<StreamManagementView> {
    const streamId = await this.streamId(name);
    const client = await this.client(name);
    const answer = await upstream(() => client.updateStatus(streamId, status, reason));
    await this.states.recordStatus(name, answer.status, answer.reason ?? null, this.now());
    return this.view(name);
  }

  /** Requests a `verification` event carrying `state` (random when not given) and records it. */
  async requestVerification(name: string, state?: string): Promise<{ state: string }> {
    const streamId = await this.streamId(name);
    const client = await this.client(name);
    const sent = state ?? randomBytes(16).toString('base64url');
    // Recorded first: the event may arrive (pushed) before the request returns.
    await this.streams.recordVerificationRequest(name, sent, this.now());
    await upstream(() => client.requestVerification(streamId, sent));
    return { state: sent };
  }

  /**
   * Where and how to poll (RFC 8936): the configured poll endpoint, or the stream's
   * `endpoint_url` (the stream is created or read first when none is recorded).
   */
  async pollTarget(name: string): Promise<PollTarget> {
    const t = this.transmitter(name);
    const poll = t.delivery.poll;
    if (!poll) throw new AdminError('INVALID', `transmitter ${name} is not polled`, 'name');
    // Discovery first, unwrapped: an issuer mismatch must reach the poller as what it is.
    await this.endpoints(name);
    let endpoint = poll.endpoint;
    if (endpoint === undefined) {
      const record = await this.streams.get(name);
      endpoint =
        record?.deliveryMethod === SSF_POLL_METHOD && record.endpointUrl
          ? record.endpointUrl
          : (await this.ensure(name)).stream?.endpointUrl;
    }
    if (endpoint === undefined)
      throw new TransmitterError('malformed', `the transmitter's stream has no poll endpoint_url`);
    return {
      endpoint,
      authorization: poll.authorization ?? t.stream.authorization,
      timeoutMs: poll.timeoutMs,
    };
  }

  private async view(name: string, stream?: StreamConfiguration): Promise<StreamManagementView> {
    const [record, state] = await Promise.all([this.streams.get(name), this.states.get(name)]);
    return { transmitter: name, record, state, stream };
  }

  private async streamId(name: string): Promise<string> {
    this.transmitter(name);
    const record = await this.streams.get(name);
    if (record?.streamId !== undefined) return record.streamId;
    const ensured = await this.ensure(name);
    return ensured.stream?.streamId as string;
  }

  private async client(name: string): Promise<SsfStreamClient> {
    return new SsfStreamClient(await this.endpoints(name), this.fetchJson);
  }

  private endpoints(name: string): Promise<StreamEndpoints> {
    const t = this.transmitter(name);
    const configured: StreamEndpoints = {
      configurationEndpoint: t.configurationEndpoint,
      statusEndpoint: t.statusEndpoint,
      verificationEndpoint: t.verificationEndpoint,
      authorization: t.stream.authorization,
      timeoutMs: MANAGEMENT_TIMEOUT_MS,
    };
    if (!t.discovery) return Promise.resolve(configured);
    let found = this.discovered.get(name);
    if (!found) {
      found = discoverTransmitter(t.issuer, MANAGEMENT_TIMEOUT_MS, this.fetchJson).then((meta) => ({
        ...configured,
        // Configured endpoints win over discovered ones (a proxy in between).
        configurationEndpoint: t.configurationEndpoint ?? meta.configurationEndpoint,
        statusEndpoint: t.statusEndpoint ?? meta.statusEndpoint,
        verificationEndpoint: t.verificationEndpoint ?? meta.verificationEndpoint,
      }));
      this.discovered.set(name, found);
      found.catch(() => this.discovered.delete(name));
    }
    return found;
  }

  private pushUrl(t: SsfTransmitterConfig): string {
    const url = t.delivery.push?.publicUrl;
    if (url === undefined)
      throw new AdminError(
        'INVALID',
        `set ssf.transmitters[${t.name}].delivery.push.publicUrl: the transmitter needs the URL it pushes to`,
        'delivery.push.publicUrl',
      );
    return url;
  }
}

/** Poll when configured (the receiver asks), otherwise push. */
function deliveryMethod(t: SsfTransmitterConfig): string {
  return t.delivery.poll ? SSF_POLL_METHOD : SSF_PUSH_METHOD;
}

/** The configured events, or every event whose action is not `none`. */
function eventsRequested(t: SsfTransmitterConfig): string[] {
  const names =
    t.stream.eventsRequested ??
    (Object.keys(SSF_EVENT_URIS) as (keyof typeof SSF_EVENT_URIS)[]).filter(
      (n) => t.actions[n] !== 'none',
    );
  return names.map((n) => SSF_EVENT_URIS[n]);
}

/** A transmitter's failure as the admin API's 502, naming what failed (never a credential). */
async function upstream<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TransmitterError) throw new AdminError('UPSTREAM', error.message);
    throw error;
  }
}
