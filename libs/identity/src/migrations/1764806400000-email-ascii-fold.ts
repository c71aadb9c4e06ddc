import type { MigrationInterface, QueryRunner } from 'typeorm';
import { FOLD_EMAIL_SQL } from '@resolver/policy';

/**
 * Emails are compared with ASCII letters folded and everything else exactly (see `foldEmail`),
 * in the lookup and in the live-uniqueness rule alike. `lower()` folded all of Unicode, and
 * depends on the database's locale, so two addresses the IdP treats as different could collide.
 * The new unique index holds on any data the old one held on (the fold is finer), so this
 * migration cannot fail on existing rows. The `lower(email)` index stays for diagnosis' near
 * misses ("an address that differs only in case exists").
 */
export class EmailAsciiFold1764806400000 implements MigrationInterface {
  name = 'EmailAsciiFold1764806400000';

  async up(q: QueryRunner): Promise<void> {
    const fold = FOLD_EMAIL_SQL('email');
    await q.query(`CREATE UNIQUE INDEX users_tenant_email_fold_live_key ON users (tenant, ${fold})
      WHERE email IS NOT NULL AND deleted_at IS NULL`);
    await q.query(
      `CREATE INDEX users_tenant_email_fold_idx ON users (tenant, ${fold}) WHERE email IS NOT NULL`,
    );
    await q.query(`DROP INDEX users_tenant_email_live_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX users_tenant_email_live_key ON users (tenant, lower(email))
      WHERE email IS NOT NULL AND deleted_at IS NULL`);
    await q.query(`DROP INDEX users_tenant_email_fold_idx`);
    await q.query(`DROP INDEX users_tenant_email_fold_live_key`);
  }
}
