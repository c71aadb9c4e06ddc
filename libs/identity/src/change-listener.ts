import { Client } from 'pg';
import { CHANGE_CHANNEL, type ChangeEvent, parseChange } from './change-event';

/** What the listener tells its subscriber. */
export interface ChangeSubscriber {
  /** One row changed. */
  onChange(event: ChangeEvent): void;
  /**
   * Notifications may have been missed (connection lost, or an unparseable/TRUNCATE event):
   * drop everything cached. Called when the connection drops and again once it is back.
   */
  onReset(reason: string): void;
  /** The connection is up and LISTENing (caches may be trusted from here on). */
  onListening?(): void;
}

export interface ListenerState {
  readonly connected: boolean;
  readonly since: Date;
  readonly reconnects: number;
  readonly lastError?: string;
}

/**
 * LISTENs on a dedicated connection (never a pooled one: a transaction pooler would lose the
 * subscription). On a lost connection it reports a reset and reconnects with exponential backoff
 * (100 ms doubling to 5 s) until stopped.
 */
export class ChangeListener {
  private client: Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private state: ListenerState = { connected: false, since: new Date(), reconnects: 0 };

  constructor(
    private readonly url: string,
    private readonly subscriber: ChangeSubscriber,
    private readonly connectTimeoutMs = 2_000,
  ) {}

  /** Connects once (resolves either way); keeps retrying in the background on failure. */
  async start(): Promise<void> {
    await this.connect();
  }

  status(): ListenerState {
    return this.state;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.connectTimeoutMs,
      keepAlive: true,
      application_name: 'subject-resolver-listener',
    });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      const wasConnected = this.state.connected;
      this.state = { ...this.state, connected: false, since: new Date(), lastError: message };
      if (wasConnected) this.subscriber.onReset(`listener connection lost: ${message}`);
      this.scheduleReconnect();
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('connection ended')));
    client.on('notification', (message) => {
      const event = parseChange(message.payload);
      if (event === 'unknown' || event.op === 'TRUNCATE') {
        // Too broad to apply entry by entry: start over, and trust again once reloaded.
        this.subscriber.onReset('bulk change or flush');
        this.subscriber.onListening?.();
      } else {
        this.subscriber.onChange(event);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    const reconnected = this.state.reconnects > 0 || this.state.lastError !== undefined;
    this.state = {
      connected: true,
      since: new Date(),
      reconnects: this.state.reconnects + (reconnected ? 1 : 0),
    };
    // Whatever happened while we were away is unknown: start from empty caches.
    if (reconnected) this.subscriber.onReset('listener reconnected');
    this.subscriber.onListening?.();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(5_000, 100 * 2 ** this.attempt++);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }
}
