import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM 2.0 provisioning: the SCIM representation of each provisioned user (beside its `users`
 * row, which stays what resolution reads), SCIM groups and their members. Scoped by the client's
 * (issuer, tenant); uniqueness ignores deleted users so an IdP can re-create a userName.
 * `scim_users` has no NOTIFY trigger: every change that matters to resolution is also a change
 * to `users` or `external_identities`, which announce themselves.
 */
export class ScimProvisioning1764892800000 implements MigrationInterface {
  name = 'ScimProvisioning1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scim_users (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        client_id text NOT NULL,
        issuer text NOT NULL,
        tenant text NOT NULL DEFAULT '',
        user_name text NOT NULL CONSTRAINT scim_users_user_name_length_check CHECK (char_length(user_name) <= 255),
        external_id text CONSTRAINT scim_users_external_id_length_check CHECK (char_length(external_id) <= 1024),
        resource jsonb NOT NULL DEFAULT '{}'::jsonb,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deactivated_at timestamptz,
        deleted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX scim_users_user_name_live_key
      ON scim_users (issuer, tenant, lower(user_name)) WHERE deleted_at IS NULL`);
    await q.query(
      `CREATE INDEX scim_users_scope_idx ON scim_users (issuer, tenant, created_at, user_id)`,
    );

    await q.query(`
      CREATE TABLE scim_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id text NOT NULL,
        issuer text NOT NULL,
        tenant text NOT NULL DEFAULT '',
        display_name text NOT NULL CONSTRAINT scim_groups_display_name_length_check CHECK (char_length(display_name) <= 255),
        external_id text CONSTRAINT scim_groups_external_id_length_check CHECK (char_length(external_id) <= 1024),
        resource jsonb NOT NULL DEFAULT '{}'::jsonb,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX scim_groups_display_name_key
      ON scim_groups (issuer, tenant, lower(display_name))`);

    await q.query(`
      CREATE TABLE scim_group_members (
        group_id uuid NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      )`);
    await q.query(`CREATE INDEX scim_group_members_user_idx ON scim_group_members (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scim_group_members`);
    await q.query(`DROP TABLE scim_groups`);
    await q.query(`DROP TABLE scim_users`);
  }
}
