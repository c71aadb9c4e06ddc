import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `users.status_decisions`: which writer's restriction stands behind `status` (see
 * `decideStatus` in libs/policy), e.g. `{"operator": "locked", "scim": "disabled"}`. `status`
 * stays the column resolution reads; every writer stores the two together, as decided.
 *
 * Existing rows: a disabled user counts as deactivated by SCIM when its SCIM row says SCIM
 * deactivated it, else as disabled by the operator; a locked user as locked by the operator
 * (plus SCIM's standing deactivation, if any); an active user has no decision. The status of no
 * row changes.
 *
 * `users_status_by_hand`: a status written outside the service (a DBA's UPDATE or INSERT that
 * leaves the decisions as they were) becomes the operator's decision alone, so a hand-made
 * change can never be mistaken for, or undone as, another writer's.
 */
export class StatusDecisions1765065600000 implements MigrationInterface {
  name = 'StatusDecisions1765065600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN status_decisions jsonb NOT NULL DEFAULT '{}'::jsonb
      CONSTRAINT users_status_decisions_check CHECK (jsonb_typeof(status_decisions) = 'object')`);
    await q.query(`ALTER TABLE users DISABLE TRIGGER users_touch_updated_at`);
    await q.query(`
      UPDATE users u SET status_decisions = CASE
          WHEN u.status = 'disabled' AND x.scim_deactivated THEN '{"scim": "disabled"}'::jsonb
          WHEN u.status = 'disabled' THEN '{"operator": "disabled"}'::jsonb
          WHEN x.scim_deactivated THEN '{"operator": "locked", "scim": "disabled"}'::jsonb
          ELSE '{"operator": "locked"}'::jsonb END
      FROM (SELECT u2.id, s.deactivated_at IS NOT NULL AS scim_deactivated
            FROM users u2 LEFT JOIN scim_users s ON s.user_id = u2.id) x
      WHERE x.id = u.id AND u.status <> 'active'`);
    await q.query(`ALTER TABLE users ENABLE TRIGGER users_touch_updated_at`);
    await q.query(`
      CREATE FUNCTION users_status_by_hand() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (TG_OP = 'INSERT' AND NEW.status <> 'active' AND NEW.status_decisions = '{}'::jsonb)
           OR (TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status
               AND NEW.status_decisions IS NOT DISTINCT FROM OLD.status_decisions) THEN
          NEW.status_decisions := CASE WHEN NEW.status = 'active' THEN '{}'::jsonb
            ELSE jsonb_build_object('operator', NEW.status) END;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER users_status_by_hand BEFORE INSERT OR UPDATE OF status ON users
      FOR EACH ROW EXECUTE FUNCTION users_status_by_hand()`);
  }

  /** Drops the decisions; every status stays as it is. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER users_status_by_hand ON users`);
    await q.query(`DROP FUNCTION users_status_by_hand()`);
    await q.query(`ALTER TABLE users DROP COLUMN status_decisions`);
  }
}
