import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `dpop_proofs`: the DPoP proofs (RFC 9449) seen within their window, keyed by the key's
 * thumbprint and the proof's `jti`, so a proof is accepted once across every replica. UNLOGGED:
 * a row lives about a minute, and a crash that loses the table loses only proofs whose window
 * is about to close (a replay after a crash and within the window is the one trade, the same one
 * an in-memory store on every replica would make for every restart). Purged by time.
 */
export class DpopProofReplay1765238400000 implements MigrationInterface {
  name = 'DpopProofReplay1765238400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE dpop_proofs (
      jkt text NOT NULL,
      jti text NOT NULL,
      expires_at timestamptz NOT NULL,
      CONSTRAINT dpop_proofs_pkey PRIMARY KEY (jkt, jti)
    )`);
    await q.query(`CREATE INDEX dpop_proofs_expires_at ON dpop_proofs (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dpop_proofs`);
  }
}
