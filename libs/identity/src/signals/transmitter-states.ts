import type { DataSource } from 'typeorm';
import { withStoreRetry } from '../store-errors';

/** A stream's status as the transmitter reports it (SSF §8.1.2). */
export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** What the receiver knows of one transmitter: last event, stream status, verification. */
export interface TransmitterState {
  readonly name: string;
  readonly lastEventAt: Date | null;
  readonly lastEventJti: string | null;
  readonly streamStatus: StreamStatus | null;
  readonly streamStatusReason: string | null;
  readonly streamStatusAt: Date | null;
  readonly verifiedAt: Date | null;
  readonly verificationState: string | null;
}

/**
 * The `ssf_transmitters` table: one row per transmitter, shared by every replica (the console,
 * the metrics and the stream management read it). Store failures are USER_STORE_UNAVAILABLE.
 */
export abstract class TransmitterStateRepository {
  abstract list(): Promise<TransmitterState[]>;
  abstract get(name: string): Promise<TransmitterState | null>;
  /** An event (any, valid) arrived now. */
  abstract touch(name: string, at: Date, jti: string): Promise<void>;
  /** The stream's status, as the transmitter said at `at` (a `stream-updated` event, a read). */
  abstract recordStatus(
    name: string,
    status: StreamStatus,
    reason: string | null,
    at: Date,
  ): Promise<void>;
  /** A `verification` event arrived, with its `state` (what the verification request sent). */
  abstract recordVerification(name: string, state: string | null, at: Date): Promise<void>;
}

interface Row {
  name: string;
  last_event_at: Date | null;
  last_event_jti: string | null;
  stream_status: StreamStatus | null;
  stream_status_reason: string | null;
  stream_status_at: Date | null;
  verified_at: Date | null;
  verification_state: string | null;
}

/** {@link TransmitterStateRepository} on Postgres: one upsert per change. */
export class TypeOrmTransmitterStateRepository extends TransmitterStateRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {
    super();
  }

  private query<T>(sql: string, values: unknown[]): Promise<T[]> {
    return withStoreRetry(() => this.dataSource.query<T[]>(sql, values), this.retry);
  }

  async list(): Promise<TransmitterState[]> {
    const rows = await this.query<Row>(`SELECT * FROM ssf_transmitters ORDER BY name`, []);
    return rows.map(toState);
  }

  async get(name: string): Promise<TransmitterState | null> {
    const [row] = await this.query<Row>(`SELECT * FROM ssf_transmitters WHERE name = $1`, [name]);
    return row ? toState(row) : null;
  }

  async touch(name: string, at: Date, jti: string): Promise<void> {
    // Never backwards: two replicas finishing out of order keep the later event.
    await this.query(
      `INSERT INTO ssf_transmitters (name, last_event_at, last_event_jti) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET last_event_at = EXCLUDED.last_event_at,
         last_event_jti = EXCLUDED.last_event_jti, updated_at = now()
         WHERE ssf_transmitters.last_event_at IS NULL
            OR ssf_transmitters.last_event_at <= EXCLUDED.last_event_at`,
      [name, at, jti],
    );
  }

  async recordStatus(
    name: string,
    status: StreamStatus,
    reason: string | null,
    at: Date,
  ): Promise<void> {
    await this.query(
      `INSERT INTO ssf_transmitters (name, stream_status, stream_status_reason, stream_status_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET stream_status = EXCLUDED.stream_status,
         stream_status_reason = EXCLUDED.stream_status_reason,
         stream_status_at = EXCLUDED.stream_status_at, updated_at = now()
         WHERE ssf_transmitters.stream_status_at IS NULL
            OR ssf_transmitters.stream_status_at <= EXCLUDED.stream_status_at`,
      [name, status, reason, at],
    );
  }

  async recordVerification(name: string, state: string | null, at: Date): Promise<void> {
    await this.query(
      `INSERT INTO ssf_transmitters (name, verified_at, verification_state) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET verified_at = EXCLUDED.verified_at,
         verification_state = EXCLUDED.verification_state, updated_at = now()`,
      [name, at, state],
    );
  }
}

function toState(row: Row): TransmitterState {
  return {
    name: row.name,
    lastEventAt: row.last_event_at,
    lastEventJti: row.last_event_jti,
    streamStatus: row.stream_status,
    streamStatusReason: row.stream_status_reason,
    streamStatusAt: row.stream_status_at,
    verifiedAt: row.verified_at,
    verificationState: row.verification_state,
  };
}
