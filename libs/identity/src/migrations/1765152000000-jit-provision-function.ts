import type { MigrationInterface, QueryRunner } from 'typeorm';
import { FOLD_EMAIL_SQL } from '@resolver/policy';

/** The new user's columns, as the function's parameters name them. */
const NEW_USER_COLUMNS = `tenant, namespace, kind, email, username, display_name, roles, attributes,
  status, status_decisions, provenance`;
const NEW_USER_VALUES = `p_tenant, p_namespace, p_kind, p_email, p_username, p_display_name,
  p_roles, p_attributes, p_status, p_status_decisions, p_provenance`;

/**
 * `resolver_jit_provision`: JIT as one statement from the client, so a first login holds a pool
 * connection for one round trip, not for a transaction of several (what a burst of first logins
 * ran out of). It returns the user the key now points at and whether this call created it:
 *
 * - `external`: the link is inserted first (`ON CONFLICT DO NOTHING`), and the user only when the
 *   link was: both in one statement, whose foreign-key check runs at its end. A link that exists
 *   means another request provisioned the subject: no user is written.
 * - `email` / `username`: the user row is the key; its live unique index is the arbiter.
 *
 * The loser of a race reads the winner in the same call. It could not in a single SQL statement:
 * an `ON CONFLICT` that meets a row inserted by a transaction still in progress waits for that
 * transaction, and once it commits the conflict is decided, but the statement's snapshot was
 * taken before the commit, so a `UNION` with a read of the existing row finds nothing. A
 * function's next statement takes a new snapshot (READ COMMITTED), in which the winner is
 * visible. Anything else that refuses the user (another user's email or username, the
 * operator-identifier trigger, a check) raises, and the whole call writes nothing: never a user
 * without its link, or a link without its user.
 *
 * `p_lock_timeout_ms` bounds every lock wait of the call (the winner's commit, the trigger's
 * advisory lock) by the time its request has left, so a request answered at its deadline does
 * not write afterwards: its call fails instead (lock_not_available) and writes nothing.
 */
const FUNCTION = `
  CREATE FUNCTION resolver_jit_provision(
    p_strategy text, p_issuer text, p_tenant text, p_subject text,
    p_namespace text, p_kind text, p_email text, p_username text, p_display_name text,
    p_roles text[], p_attributes jsonb, p_status text, p_status_decisions jsonb, p_provenance text,
    p_lock_timeout_ms integer)
  RETURNS TABLE (created boolean, provisioned users)
  LANGUAGE plpgsql VOLATILE AS $$
  BEGIN
    IF p_lock_timeout_ms IS NOT NULL THEN
      PERFORM set_config('lock_timeout', greatest(p_lock_timeout_ms, 1) || 'ms', true);
    END IF;
    IF p_strategy = 'external' THEN
      RETURN QUERY
        WITH link AS (
          INSERT INTO external_identities (issuer, tenant, subject, user_id)
          VALUES (p_issuer, p_tenant, p_subject, gen_random_uuid())
          ON CONFLICT (issuer, tenant, subject) DO NOTHING
          RETURNING user_id)
        INSERT INTO users AS u (id, ${NEW_USER_COLUMNS})
        SELECT link.user_id, ${NEW_USER_VALUES} FROM link
        RETURNING true, u;
      IF NOT FOUND THEN
        RETURN QUERY SELECT false, u FROM external_identities e JOIN users u ON u.id = e.user_id
          WHERE e.issuer = p_issuer AND e.tenant = p_tenant AND e.subject = p_subject;
      END IF;
    ELSIF p_strategy = 'email' THEN
      RETURN QUERY
        INSERT INTO users AS u (${NEW_USER_COLUMNS}) VALUES (${NEW_USER_VALUES})
        ON CONFLICT (namespace, tenant, ${FOLD_EMAIL_SQL('email')})
          WHERE email IS NOT NULL AND deleted_at IS NULL DO NOTHING
        RETURNING true, u;
      IF NOT FOUND THEN
        RETURN QUERY SELECT false, u FROM users u
          WHERE u.namespace = p_namespace AND u.tenant = p_tenant AND u.email IS NOT NULL
            AND ${FOLD_EMAIL_SQL('u.email')} = ${FOLD_EMAIL_SQL('p_email')} AND u.deleted_at IS NULL;
      END IF;
    ELSIF p_strategy = 'username' THEN
      RETURN QUERY
        INSERT INTO users AS u (${NEW_USER_COLUMNS}) VALUES (${NEW_USER_VALUES})
        ON CONFLICT (namespace, tenant, username)
          WHERE username IS NOT NULL AND deleted_at IS NULL DO NOTHING
        RETURNING true, u;
      IF NOT FOUND THEN
        RETURN QUERY SELECT false, u FROM users u
          WHERE u.namespace = p_namespace AND u.tenant = p_tenant AND u.username = p_username
            AND u.deleted_at IS NULL;
      END IF;
    ELSE
      RAISE EXCEPTION 'JIT cannot provision by %', p_strategy USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END $$`;

/** JIT provisioning in one round trip (see {@link FUNCTION}); the entity path stays for admins. */
export class JitProvisionFunction1765152000000 implements MigrationInterface {
  name = 'JitProvisionFunction1765152000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(FUNCTION);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION resolver_jit_provision(text, text, text, text, text, text, text,
      text, text, text[], jsonb, text, jsonb, text, integer)`);
  }
}
