import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shared Signals (SSF: CAEP / RISC events from an identity provider):
 * - `users.signals`: what events did to the user (revoked sessions, the newest sign-out, the
 *   last event applied per kind for ordering), read with the user by every lookup; a write is an
 *   UPDATE of `users`, so the existing change notification drops the user on every replica;
 * - `ssf_received_sets`: the `jti`s processed per transmitter, so a replayed SET is acknowledged
 *   and not applied again on any replica; purged after the configured retention;
 * - `ssf_transmitters`: per transmitter, the last event received, the stream status the
 *   transmitter reported (`stream-updated`, stream management) and the last verification.
 */
export class SharedSignals1765310000000 implements MigrationInterface {
  name = 'SharedSignals1765310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN signals jsonb NOT NULL DEFAULT '{}'::jsonb
      CONSTRAINT users_signals_check CHECK (jsonb_typeof(signals) = 'object')`);
    await q.query(`CREATE TABLE ssf_received_sets (
      transmitter text NOT NULL,
      jti text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ssf_received_sets_pkey PRIMARY KEY (transmitter, jti)
    )`);
    await q.query(`CREATE INDEX ssf_received_sets_received_at ON ssf_received_sets (received_at)`);
    await q.query(`CREATE TABLE ssf_transmitters (
      name text PRIMARY KEY,
      last_event_at timestamptz,
      last_event_jti text,
      stream_status text CHECK (stream_status IN ('enabled', 'paused', 'disabled')),
      stream_status_reason text,
      stream_status_at timestamptz,
      verified_at timestamptz,
      verification_state text,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ssf_transmitters`);
    await q.query(`DROP TABLE ssf_received_sets`);
    await q.query(`ALTER TABLE users DROP COLUMN signals`);
  }
}
