import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Announces every change to users, external identities and revoked tokens with NOTIFY, from
 * triggers, so that every writer counts — the admin API, a bulk import, a DBA's UPDATE — and
 * every replica can drop exactly the cache entries affected. Payloads carry keys only.
 */
export class ChangeNotifications1763971200000 implements MigrationInterface {
  name = 'ChangeNotifications1763971200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION resolver_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        rec record;
        payload jsonb;
      BEGIN
        IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
        IF TG_TABLE_NAME = 'users' THEN
          payload := jsonb_build_object('table', 'users', 'op', TG_OP, 'userId', rec.id);
        ELSIF TG_TABLE_NAME = 'external_identities' THEN
          payload := jsonb_build_object('table', 'external_identities', 'op', TG_OP, 'userId', rec.user_id);
          -- A re-pointed link must drop the previous owner's entries too.
          IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
            PERFORM pg_notify('resolver_changes',
              jsonb_build_object('table', 'external_identities', 'op', TG_OP, 'userId', OLD.user_id)::text);
          END IF;
        ELSE
          payload := jsonb_build_object('table', 'revoked_tokens', 'op', TG_OP, 'issuer', rec.issuer,
            'jti', rec.jti, 'expiresAt', rec.expires_at);
        END IF;
        PERFORM pg_notify('resolver_changes', payload::text);
        RETURN NULL;
      END $$`);
    for (const table of ['users', 'external_identities', 'revoked_tokens']) {
      await q.query(`CREATE TRIGGER ${table}_notify_change AFTER INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION resolver_notify_change()`);
    }
    // TRUNCATE fires no row triggers; announce it as "everything changed".
    await q.query(`
      CREATE FUNCTION resolver_notify_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('resolver_changes', jsonb_build_object('table', TG_TABLE_NAME, 'op', 'TRUNCATE')::text);
        RETURN NULL;
      END $$`);
    for (const table of ['users', 'external_identities', 'revoked_tokens']) {
      await q.query(`CREATE TRIGGER ${table}_notify_truncate AFTER TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION resolver_notify_truncate()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['users', 'external_identities', 'revoked_tokens']) {
      await q.query(`DROP TRIGGER ${table}_notify_change ON ${table}`);
      await q.query(`DROP TRIGGER ${table}_notify_truncate ON ${table}`);
    }
    await q.query(`DROP FUNCTION resolver_notify_change()`);
    await q.query(`DROP FUNCTION resolver_notify_truncate()`);
  }
}
