import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `ssf_streams`: one row per configured Shared Signals transmitter, the stream this receiver
 * holds at it (SSF 1.0 §8) and what every replica and the console need to see of it: the stream
 * id and delivery, the last verification asked for, and the poller's last attempt, success,
 * event and error (the lag metric reads these). The stream's status and the verification
 * received are the receiver's, in `ssf_transmitters`.
 */
export class SsfStreams1765320000000 implements MigrationInterface {
  name = 'SsfStreams1765320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ssf_streams (
      transmitter text NOT NULL,
      stream_id text,
      delivery_method text,
      endpoint_url text,
      events_delivered jsonb NOT NULL DEFAULT '[]'::jsonb,
      verification_state text,
      verification_requested_at timestamptz,
      last_poll_at timestamptz,
      last_poll_ok_at timestamptz,
      last_event_at timestamptz,
      last_error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ssf_streams_pkey PRIMARY KEY (transmitter),
      CONSTRAINT ssf_streams_events CHECK (jsonb_typeof(events_delivered) = 'array')
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ssf_streams`);
  }
}
