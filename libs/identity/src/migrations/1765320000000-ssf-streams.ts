import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `ssf_streams`: one row per configured Shared Signals transmitter, the stream this receiver
 * holds at it (SSF 1.0 §8) and what every replica and the console need to see of it: the stream
 * id and delivery, its status and why (from the status endpoint or a `stream-updated` event,
 * the newer by time winning), the last verification asked for and received, and the poller's
 * last attempt, success, event and error (the lag metric and the alerts read these).
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
      status text,
      status_reason text,
      status_at timestamptz,
      verification_state text,
      verification_requested_at timestamptz,
      verified_state text,
      verified_at timestamptz,
      last_poll_at timestamptz,
      last_poll_ok_at timestamptz,
      last_event_at timestamptz,
      last_error text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ssf_streams_pkey PRIMARY KEY (transmitter),
      CONSTRAINT ssf_streams_status CHECK (status IN ('enabled', 'paused', 'disabled')),
      CONSTRAINT ssf_streams_events CHECK (jsonb_typeof(events_delivered) = 'array')
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ssf_streams`);
  }
}
