import type { MigrationInterface, QueryRunner } from 'typeorm';
import { FOLD_EMAIL_SQL } from '@resolver/policy';

type Identifier = 'email' | 'username';

/** The value as compared (email: ASCII case folded), of the row named by `row` (`u.`, `NEW.`). */
const valueOf = (kind: Identifier, row: string) =>
  kind === 'email' ? FOLD_EMAIL_SQL(`${row}email`) : `${row}username`;

/**
 * One kind's check: a live user's value may not be held by a live user of the same tenant in an
 * overlapping namespace (the operator's and any other), a unique violation naming
 * `users_operator_<kind>_key`, as the unique indexes raise theirs. Writers of one value
 * serialise on a transaction-scoped advisory lock of it, taken before the check, so two
 * concurrent inserts cannot both miss each other (each statement of a plpgsql function sees what
 * committed before it, at READ COMMITTED). Values hash into 256 locks per kind, so even a bulk
 * INSERT of a million users holds at most 512 advisory locks (the shared lock table is small);
 * two writers of different values share a lock 1 time in 256, and one then waits for the other's
 * commit.
 */
const checkOf = (kind: Identifier, lockBase: number) => `
    IF NEW.${kind} IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(hashtext('users_operator_identifiers'),
        ${lockBase} + (hashtext(NEW.tenant || '/' || ${valueOf(kind, 'NEW.')}) & 255));
      PERFORM 1 FROM users u WHERE u.tenant = NEW.tenant AND u.${kind} IS NOT NULL
        AND ${valueOf(kind, 'u.')} = ${valueOf(kind, 'NEW.')} AND u.deleted_at IS NULL
        AND u.id <> NEW.id AND u.namespace <> NEW.namespace
        AND (u.namespace = '' OR NEW.namespace = '');
      IF FOUND THEN
        RAISE EXCEPTION 'an operator''s user and another namespace''s user may not share a ${kind}'
          USING ERRCODE = 'unique_violation', CONSTRAINT = 'users_operator_${kind}_key',
            TABLE = 'users';
      END IF;
    END IF;`;

/**
 * The check for both kinds. Planned afresh on every call (`force_custom_plan`), with the table as
 * large as it is then: a plan cached while the table was young chose an index on tenant alone and
 * scanned the whole tenant for every row written (a 5,000-row INSERT took two minutes); with
 * `enable_seqscan` off, the lookup is an index lookup on (tenant, value) whatever the statistics.
 */
const OPERATOR_IDENTIFIERS_FUNCTION = `
  CREATE FUNCTION users_operator_identifiers() RETURNS trigger LANGUAGE plpgsql
  SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
  BEGIN
    IF NEW.deleted_at IS NOT NULL THEN RETURN NEW; END IF;
    -- A live user written with the identifiers it had (a SCIM PUT, a role change) was checked.
    IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.tenant = OLD.tenant
       AND NEW.namespace = OLD.namespace AND NEW.email IS NOT DISTINCT FROM OLD.email
       AND NEW.username IS NOT DISTINCT FROM OLD.username THEN
      RETURN NEW;
    END IF;${checkOf('email', 0)}${checkOf('username', 256)}
    RETURN NEW;
  END $$`;

/**
 * Email and username are unique per *namespace* and tenant among live users, not per tenant: a
 * namespace is the issuer whose identifiers they are (its SCIM client and its JIT write there),
 * or `''`, the operator's, for users the admin API and the import create. Two issuers'
 * namespaces never conflict, so a provisioning client can neither see (through a 409) nor block
 * (by squatting an address) another issuer's users. The operator's namespace overlaps every
 * other one, as lookups do (email and username lookups search the token issuer's namespace, then
 * the operator's): an operator's user keeps its email and username for itself in the whole
 * tenant, so no JIT or SCIM user silently becomes a second principal with an operator user's
 * address (`users_operator_identifiers`, below; the unique indexes hold within a namespace).
 *
 * Existing rows: a SCIM user goes to its client's issuer, a JIT user to the one issuer it is
 * linked to (if exactly one); every other row (admin, import, JIT linked to several issuers or
 * none) stays in `''`. Any such partition is finer than "per tenant", which the old unique
 * indexes held on, so the new ones cannot fail and no row changes but its namespace.
 */
export class IdentifierNamespaces1764979200000 implements MigrationInterface {
  name = 'IdentifierNamespaces1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN namespace text NOT NULL DEFAULT ''`);
    // A migration is nobody's edit: updated_at keeps saying when a writer last changed the user.
    await q.query(`ALTER TABLE users DISABLE TRIGGER users_touch_updated_at`);
    await q.query(
      `UPDATE users u SET namespace = s.issuer FROM scim_users s WHERE s.user_id = u.id`,
    );
    await q.query(`
      UPDATE users u SET namespace = l.issuer
      FROM (SELECT user_id, min(issuer) AS issuer FROM external_identities
            GROUP BY user_id HAVING count(DISTINCT issuer) = 1) l
      WHERE l.user_id = u.id AND u.provenance = 'jit'`);
    await q.query(`ALTER TABLE users ENABLE TRIGGER users_touch_updated_at`);
    const fold = FOLD_EMAIL_SQL('email');
    await q.query(`CREATE UNIQUE INDEX users_namespace_email_live_key
      ON users (namespace, tenant, ${fold}) WHERE email IS NOT NULL AND deleted_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX users_namespace_username_live_key
      ON users (namespace, tenant, username) WHERE username IS NOT NULL AND deleted_at IS NULL`);
    // The lookups keep users_tenant_email_fold_idx and users_tenant_username_idx (they hold
    // deleted users too, which a lookup reports as USER_DELETED).
    await q.query(`DROP INDEX users_tenant_email_fold_live_key`);
    await q.query(`DROP INDEX users_tenant_username_live_key`);
    await q.query(OPERATOR_IDENTIFIERS_FUNCTION);
    await q.query(`CREATE TRIGGER users_operator_identifiers
      BEFORE INSERT OR UPDATE OF tenant, namespace, email, username, deleted_at ON users
      FOR EACH ROW EXECUTE FUNCTION users_operator_identifiers()`);
  }

  /**
   * Back to one namespace per tenant. Refused, naming the count, while two live users of one
   * tenant share an email or username in different namespaces: the old unique indexes cannot
   * hold them, and dropping either user would lose a row.
   */
  async down(q: QueryRunner): Promise<void> {
    const fold = FOLD_EMAIL_SQL('email');
    const [clash] = (await q.query(`
      SELECT (SELECT count(*) FROM (SELECT 1 FROM users WHERE email IS NOT NULL AND deleted_at IS NULL
                GROUP BY tenant, ${fold} HAVING count(*) > 1) e)
           + (SELECT count(*) FROM (SELECT 1 FROM users WHERE username IS NOT NULL AND deleted_at IS NULL
                GROUP BY tenant, username HAVING count(*) > 1) n) AS n`)) as { n: string }[];
    if (Number(clash?.n ?? 0) > 0)
      throw new Error(
        `cannot revert IdentifierNamespaces: ${clash?.n} emails or usernames are held by live users of several namespaces in one tenant; change or delete all but one of each first`,
      );
    await q.query(`CREATE UNIQUE INDEX users_tenant_email_fold_live_key ON users (tenant, ${fold})
      WHERE email IS NOT NULL AND deleted_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX users_tenant_username_live_key ON users (tenant, username)
      WHERE username IS NOT NULL AND deleted_at IS NULL`);
    await q.query(`DROP TRIGGER users_operator_identifiers ON users`);
    await q.query(`DROP FUNCTION users_operator_identifiers()`);
    await q.query(`DROP INDEX users_namespace_email_live_key`);
    await q.query(`DROP INDEX users_namespace_username_live_key`);
    await q.query(`ALTER TABLE users DROP COLUMN namespace`);
  }
}
