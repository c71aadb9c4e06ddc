import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../libs/identity/src/migrations';
import { createTestDatabase } from './support/database';

/**
 * The namespace and status-decision migrations on rows written before them (real Postgres): no
 * row lost, each row in the namespace and with the decisions the migrations promise, no status
 * or updated_at changed; and back down again.
 */
const BEFORE = MIGRATIONS.findIndex((m) => m.name === 'IdentifierNamespaces1764979200000');
const dataSource = (url: string, migrations: readonly (typeof MIGRATIONS)[number][]) =>
  new DataSource({ type: 'postgres', url, migrations: [...migrations], logging: false });

describe('migrations: identifier namespaces and status decisions', () => {
  let url: string;
  let db: DataSource;
  beforeAll(async () => {
    expect(BEFORE).toBeGreaterThan(0);
    expect(MIGRATIONS[BEFORE + 1]?.name).toBe('StatusDecisions1765065600000');
    url = await createTestDatabase('migrations');
    const old = await dataSource(url, MIGRATIONS.slice(0, BEFORE)).initialize();
    await old.runMigrations({ transaction: 'each' });
    await old.destroy();
    // Up to the two migrations under test, so that undoing the last two undoes them.
    db = await dataSource(url, MIGRATIONS.slice(0, BEFORE + 2)).initialize();
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const q = <T = any>(sql: string, params: unknown[] = []) => db.query<T[]>(sql, params);
  async function user(
    name: string,
    fields: { provenance: string; status?: string; email?: string; deleted?: boolean },
    links: string[] = [],
    scim?: { issuer: string; deactivated: boolean },
  ) {
    const [{ id }] = await q(
      `INSERT INTO users (email, username, status, provenance, deleted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, '2020-01-01T00:00:00Z') RETURNING id`,
      [
        fields.email ?? `${name}@corp.test`,
        name,
        fields.status ?? 'active',
        fields.provenance,
        fields.deleted ? new Date() : null,
      ],
    );
    for (const [i, issuer] of links.entries())
      await q('INSERT INTO external_identities (issuer, subject, user_id) VALUES ($1, $2, $3)', [
        issuer,
        `${name}-${i}`,
        id,
      ]);
    if (scim)
      await q(
        `INSERT INTO scim_users (user_id, client_id, issuer, user_name, deactivated_at)
         VALUES ($1, 'c', $2, $3, $4)`,
        [id, scim.issuer, name, scim.deactivated ? new Date() : null],
      );
    return id as string;
  }

  it('migrates every row: namespace, decisions; no row, status or updated_at changed; and back down', async () => {
    const ids = {
      admin: await user('admin', { provenance: 'admin', status: 'locked' }, ['https://i1']),
      imported: await user('imported', { provenance: 'import', status: 'disabled' }),
      jitOne: await user('jit-one', { provenance: 'jit', status: 'disabled' }, [
        'https://i1',
        'https://i1',
      ]),
      jitTwo: await user('jit-two', { provenance: 'jit' }, ['https://i1', 'https://i2']),
      jitNone: await user('jit-none', { provenance: 'jit' }),
      scimOff: await user('scim-off', { provenance: 'scim', status: 'disabled' }, ['https://s'], {
        issuer: 'https://s',
        deactivated: true,
      }),
      scimLocked: await user(
        'scim-locked',
        { provenance: 'scim', status: 'locked' },
        ['https://s'],
        {
          issuer: 'https://s',
          deactivated: true,
        },
      ),
      scimOpDisabled: await user('scim-op', { provenance: 'scim', status: 'disabled' }, [], {
        issuer: 'https://s',
        deactivated: false,
      }),
      deletedTwin: await user('deleted-twin', {
        provenance: 'jit',
        email: 'jit-none@corp.test',
        deleted: true,
      }),
    };
    const before = await q(`SELECT id, status, updated_at FROM users ORDER BY id`);

    await db.runMigrations({ transaction: 'each' });

    const rows = await q<{ id: string; namespace: string; status_decisions: object }>(
      `SELECT id, namespace, status_decisions FROM users`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const expected: Record<keyof typeof ids, [string, object]> = {
      admin: ['', { operator: 'locked' }],
      imported: ['', { operator: 'disabled' }],
      jitOne: ['https://i1', { operator: 'disabled' }],
      jitTwo: ['', {}],
      jitNone: ['', {}],
      scimOff: ['https://s', { scim: 'disabled' }],
      scimLocked: ['https://s', { operator: 'locked', scim: 'disabled' }],
      scimOpDisabled: ['https://s', { operator: 'disabled' }],
      deletedTwin: ['', {}],
    };
    for (const [name, [namespace, decisions]] of Object.entries(expected))
      expect([name, byId.get(ids[name as keyof typeof ids])]).toEqual([
        name,
        expect.objectContaining({ namespace, status_decisions: decisions }),
      ]);
    expect(await q(`SELECT id, status, updated_at FROM users ORDER BY id`)).toEqual(before);

    // Down, both steps: the columns go, the per-tenant unique indexes come back, every row stays.
    await db.undoLastMigration({ transaction: 'each' });
    await db.undoLastMigration({ transaction: 'each' });
    const columns = await q(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('namespace', 'status_decisions')`,
    );
    expect(columns).toEqual([]);
    const indexes = (
      await q<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'users'`)
    ).map((r) => r.indexname);
    expect(indexes).toEqual(
      expect.arrayContaining([
        'users_tenant_email_fold_live_key',
        'users_tenant_username_live_key',
      ]),
    );
    expect(await q(`SELECT id, status, updated_at FROM users ORDER BY id`)).toEqual(before);
    await db.runMigrations({ transaction: 'each' });
  });

  it('refuses to go down, naming the count, while two namespaces share an address, and keeps every row', async () => {
    await q(`INSERT INTO users (email, namespace, provenance) VALUES ('twice@corp.test', 'https://a', 'scim'),
      ('twice@corp.test', 'https://b', 'scim')`);
    const count = (await q(`SELECT count(*)::int AS n FROM users`))[0].n;
    await db.undoLastMigration({ transaction: 'each' });
    await expect(db.undoLastMigration({ transaction: 'each' })).rejects.toThrow(
      /cannot revert IdentifierNamespaces: 1 emails or usernames are held by live users of several namespaces/,
    );
    expect((await q(`SELECT count(*)::int AS n FROM users`))[0].n).toBe(count);
    await db.runMigrations({ transaction: 'each' });
  });

  it("a hand-written status is the operator's decision alone", async () => {
    const [{ id }] = await q(
      `INSERT INTO users (email, status, provenance) VALUES ('hand@corp.test', 'disabled', 'admin') RETURNING id`,
    );
    expect(
      (await q(`SELECT status_decisions FROM users WHERE id = $1`, [id]))[0].status_decisions,
    ).toEqual({
      operator: 'disabled',
    });
    await q(`UPDATE users SET status_decisions = '{"scim": "disabled"}' WHERE id = $1`, [id]);
    await q(`UPDATE users SET status = 'locked' WHERE id = $1`, [id]);
    expect(
      (await q(`SELECT status_decisions FROM users WHERE id = $1`, [id]))[0].status_decisions,
    ).toEqual({
      operator: 'locked',
    });
    await q(`UPDATE users SET status = 'active' WHERE id = $1`, [id]);
    expect(
      (await q(`SELECT status_decisions FROM users WHERE id = $1`, [id]))[0].status_decisions,
    ).toEqual({});
  });
});
