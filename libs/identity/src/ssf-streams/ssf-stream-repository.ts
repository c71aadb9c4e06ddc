import type { DataSource } from 'typeorm';
import { withStoreRetry } from '../store-errors';

/** One transmitter's stream as this receiver knows it (the `ssf_streams` row). */
export interface SsfStreamRecord {
  readonly transmitter: string;
  readonly streamId?: string;
  readonly deliveryMethod?: string;
  readonly endpointUrl?: string;
  readonly eventsDelivered: readonly string[];
  /** The state the last verification request sent (the event must echo it). */
  readonly verificationState?: string;
  readonly verificationRequestedAt?: Date;
  readonly lastPollAt?: Date;
  readonly lastPollOkAt?: Date;
  readonly lastEventAt?: Date;
  readonly lastError?: string;
  readonly updatedAt: Date;
}

export interface SsfStreamIdentity {
  readonly streamId: string;
  readonly deliveryMethod: string;
  readonly endpointUrl?: string;
  readonly eventsDelivered: readonly string[];
}

/** What one poll did, for the row. */
export interface SsfPollOutcome {
  readonly at: Date;
  readonly ok: boolean;
  /** Set when the poll brought at least one SET. */
  readonly eventAt?: Date;
  /** Why it failed (never a credential); cleared by a success. */
  readonly error?: string;
}

/**
 * The `ssf_streams` table: each transmitter's stream as stream management and the poller know
 * it, shared by every replica and the console. An abstract class so it can serve as the DI token.
 * (The stream's status lives with the receiver's transmitter state: `TransmitterStateRepository`.)
 */
export abstract class SsfStreamRepository {
  abstract get(transmitter: string): Promise<SsfStreamRecord | undefined>;
  abstract list(): Promise<SsfStreamRecord[]>;
  /** Records the stream created or read at the transmitter (its id, delivery, events). */
  abstract saveStream(transmitter: string, stream: SsfStreamIdentity, now: Date): Promise<void>;
  abstract recordVerificationRequest(transmitter: string, state: string, at: Date): Promise<void>;
  abstract recordPoll(transmitter: string, outcome: SsfPollOutcome): Promise<void>;
}

type Row = Record<string, unknown>;

const dateOrUndefined = (v: unknown) => (v instanceof Date ? v : undefined);
const textOrUndefined = (v: unknown) => (typeof v === 'string' ? v : undefined);

function fromRow(r: Row): SsfStreamRecord {
  return {
    transmitter: r.transmitter as string,
    streamId: textOrUndefined(r.stream_id),
    deliveryMethod: textOrUndefined(r.delivery_method),
    endpointUrl: textOrUndefined(r.endpoint_url),
    eventsDelivered: Array.isArray(r.events_delivered) ? (r.events_delivered as string[]) : [],
    verificationState: textOrUndefined(r.verification_state),
    verificationRequestedAt: dateOrUndefined(r.verification_requested_at),
    lastPollAt: dateOrUndefined(r.last_poll_at),
    lastPollOkAt: dateOrUndefined(r.last_poll_ok_at),
    lastEventAt: dateOrUndefined(r.last_event_at),
    lastError: textOrUndefined(r.last_error),
    updatedAt: r.updated_at as Date,
  };
}

/** A row for the transmitter exists before any partial update (one statement, idempotent). */
const ENSURE = `INSERT INTO ssf_streams (transmitter) VALUES ($1) ON CONFLICT (transmitter) DO NOTHING`;

/** {@link SsfStreamRepository} on Postgres. */
export class TypeOrmSsfStreamRepository extends SsfStreamRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  private query(sql: string, params: unknown[]): Promise<Row[]> {
    return withStoreRetry(() => this.dataSource.query<Row[]>(sql, params), this.retry);
  }

  /** One transaction-free upsert: the row is created if missing, then updated. */
  private async upsert(transmitter: string, sql: string, params: unknown[]): Promise<Row[]> {
    await this.query(ENSURE, [transmitter]);
    return this.query(sql, [transmitter, ...params]);
  }

  async get(transmitter: string): Promise<SsfStreamRecord | undefined> {
    const rows = await this.query(`SELECT * FROM ssf_streams WHERE transmitter = $1`, [
      transmitter,
    ]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(): Promise<SsfStreamRecord[]> {
    return (await this.query(`SELECT * FROM ssf_streams ORDER BY transmitter`, [])).map(fromRow);
  }

  async saveStream(transmitter: string, s: SsfStreamIdentity, now: Date): Promise<void> {
    await this.upsert(
      transmitter,
      `UPDATE ssf_streams SET stream_id = $2, delivery_method = $3, endpoint_url = $4,
         events_delivered = $5::jsonb, updated_at = $6 WHERE transmitter = $1`,
      [s.streamId, s.deliveryMethod, s.endpointUrl ?? null, JSON.stringify(s.eventsDelivered), now],
    );
  }

  async recordVerificationRequest(transmitter: string, state: string, at: Date): Promise<void> {
    await this.upsert(
      transmitter,
      `UPDATE ssf_streams SET verification_state = $2, verification_requested_at = $3,
         updated_at = now() WHERE transmitter = $1`,
      [state, at],
    );
  }

  async recordPoll(transmitter: string, o: SsfPollOutcome): Promise<void> {
    if (o.ok)
      await this.upsert(
        transmitter,
        `UPDATE ssf_streams SET last_poll_at = $2, last_poll_ok_at = $2, last_error = NULL,
           last_event_at = COALESCE($3, last_event_at), updated_at = now() WHERE transmitter = $1`,
        [o.at, o.eventAt ?? null],
      );
    else
      await this.upsert(
        transmitter,
        `UPDATE ssf_streams SET last_poll_at = $2, last_error = $3, updated_at = now()
           WHERE transmitter = $1`,
        [o.at, (o.error ?? 'failed').slice(0, 1_024)],
      );
  }
}
