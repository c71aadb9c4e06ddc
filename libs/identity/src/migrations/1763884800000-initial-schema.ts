import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users, their federated identities and the jti deny-list, with one index per lookup strategy.
 * Email uniqueness is case-insensitive per tenant and ignores soft-deleted users, so a deleted
 * user's address can be reused while lookups can still find the deleted record (USER_DELETED).
 */
export class InitialSchema1763884800000 implements MigrationInterface {
  name = 'InitialSchema1763884800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant text NOT NULL DEFAULT '',
        kind text NOT NULL DEFAULT 'user' CONSTRAINT users_kind_check CHECK (kind IN ('user', 'service')),
        email text CONSTRAINT users_email_length_check CHECK (char_length(email) <= 320),
        username text CONSTRAINT users_username_length_check CHECK (char_length(username) <= 255),
        display_name text,
        roles text[] NOT NULL DEFAULT '{}',
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        status text NOT NULL DEFAULT 'active'
          CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled', 'locked')),
        deleted_at timestamptz,
        tokens_valid_after timestamptz,
        provenance text NOT NULL DEFAULT 'admin'
          CONSTRAINT users_provenance_check CHECK (provenance IN ('admin', 'jit', 'scim', 'import')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_tenant_email_live_key ON users (tenant, lower(email))
      WHERE email IS NOT NULL AND deleted_at IS NULL`);
    await q.query(
      `CREATE INDEX users_tenant_email_idx ON users (tenant, lower(email)) WHERE email IS NOT NULL`,
    );
    await q.query(`CREATE UNIQUE INDEX users_tenant_username_live_key ON users (tenant, username)
      WHERE username IS NOT NULL AND deleted_at IS NULL`);
    await q.query(
      `CREATE INDEX users_tenant_username_idx ON users (tenant, username) WHERE username IS NOT NULL`,
    );
    await q.query(`
      CREATE FUNCTION users_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.updated_at := now(); RETURN NEW; END $$`);
    await q.query(`CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON users
      FOR EACH ROW EXECUTE FUNCTION users_touch_updated_at()`);

    await q.query(`
      CREATE TABLE external_identities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        issuer text NOT NULL,
        tenant text NOT NULL DEFAULT '',
        subject text NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT external_identities_key UNIQUE (issuer, tenant, subject)
      )`);
    await q.query(`CREATE INDEX external_identities_user_idx ON external_identities (user_id)`);

    await q.query(`
      CREATE TABLE revoked_tokens (
        issuer text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, jti)
      )`);
    await q.query(`CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE revoked_tokens`);
    await q.query(`DROP TABLE external_identities`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP FUNCTION users_touch_updated_at()`);
  }
}
