import { Client, Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { decideStatus } from '@resolver/policy';
import { isResolutionError } from '@resolver/reasons';
import {
  type LookupKey,
  type NewUser,
  runMigrations,
  TypeOrmUserRepository,
} from '../libs/identity/src';
import { migratedDataSource } from './support/database';

const ISS = 'https://jit-sql.idp.test';
const OTHER = 'https://jit-sql-other.idp.test';

const keyOf = (subject: string, strategy: LookupKey['strategy'] = 'external'): LookupKey => ({
  issuer: ISS,
  tenant: '',
  subject,
  strategy,
  kind: 'user',
});

/** What JIT asks the store for: the issuer's namespace, the JIT writer's status decision. */
const userOf = (fields: { email?: string; username?: string } = {}): NewUser => ({
  tenant: '',
  namespace: ISS,
  kind: 'user',
  email: fields.email ?? null,
  username: fields.username ?? null,
  roles: ['reader'],
  attributes: { team: 'a"b,c' },
  status: decideStatus(null, 'jit', 'active'),
  provenance: 'jit',
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * JIT provisioning on real Postgres, at the repository: one round trip in the common case and
 * for the loser of a race across connections (another replica), never a half-written user, the
 * namespace rules and the trigger's operator rule kept, the dry run writing nothing, and nothing
 * written past a request's deadline.
 */
describe('JIT provisioning: one statement, races, deadlines (real Postgres)', () => {
  let url: string;
  let ds: DataSource;
  let repo: TypeOrmUserRepository;
  let sql: Pool;
  /**
   * Round trips the repository makes: statements its pool's clients send while `counting` (the
   * suite's own clients, which play the other replica and inspect the tables, are not counted).
   */
  let roundTrips = 0;
  let counting = false;
  const suiteClients = new WeakSet<object>();
  const originalQuery = Reflect.get(Client.prototype, 'query') as (...args: unknown[]) => unknown;

  beforeAll(async () => {
    ({ ds, url } = await migratedDataSource('jit_sql', 4));
    repo = new TypeOrmUserRepository(ds, { attempts: 1, backoffMs: 10 });
    sql = new Pool({ connectionString: url, max: 4 });
    sql.on('connect', (client) => suiteClients.add(client));
    Reflect.set(Client.prototype, 'query', function (this: Client, ...args: unknown[]) {
      if (counting && !suiteClients.has(this)) roundTrips++;
      return originalQuery.apply(this, args);
    });
  });

  afterAll(async () => {
    Reflect.set(Client.prototype, 'query', originalQuery);
    await sql?.end();
    await ds?.destroy();
  });

  /** Runs `work` and returns its result with the round trips it made. */
  async function counted<T>(work: () => Promise<T>): Promise<{ result: T; trips: number }> {
    roundTrips = 0;
    counting = true;
    try {
      return { result: await work(), trips: roundTrips };
    } finally {
      counting = false;
    }
  }

  const counts = async () =>
    (
      await sql.query<{ users: number; links: number; orphans: number }>(
        `SELECT (SELECT count(*)::int FROM users) AS users,
                (SELECT count(*)::int FROM external_identities) AS links,
                (SELECT count(*)::int FROM users u WHERE u.provenance = 'jit' AND u.namespace = $1
                   AND NOT EXISTS (SELECT 1 FROM external_identities e WHERE e.user_id = u.id)
                   AND u.email NOT LIKE 'strategy-%') AS orphans`,
        [ISS],
      )
    ).rows[0];

  /** Another replica's provisioning of `subject`, left open in a transaction until settled. */
  async function openWinner(
    subject: string,
    user: NewUser,
    strategy: LookupKey['strategy'] = 'external',
  ): Promise<{ id: string; settle: (how: 'COMMIT' | 'ROLLBACK') => Promise<void> }> {
    const client = new Client({ connectionString: url });
    suiteClients.add(client);
    await client.connect();
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string; created: boolean }>(
      `SELECT p.created, (p.provisioned).id FROM resolver_jit_provision(
        $1, $2, '', $3, $4, 'user', $5, $6, NULL, '{}', '{}', 'active', '{}', 'jit', NULL) p`,
      [strategy, ISS, subject, ISS, user.email ?? null, user.username ?? null],
    );
    expect(rows[0]?.created).toBe(true);
    return {
      id: rows[0]?.id as string,
      settle: async (how) => {
        await client.query(how);
        await client.end();
      },
    };
  }

  /** Waits until some backend of this database waits on a lock (the loser has reached it). */
  async function someoneWaitsOnALock(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const { rows } = await sql.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (rows.length) return;
      await sleep(20);
    }
    throw new Error('no backend ever waited on a lock');
  }

  it('creates the user and its link in one round trip, with the namespace and the JIT decision', async () => {
    const { result, trips } = await counted(() =>
      repo.provision(keyOf('one'), userOf({ email: 'one@x.test' })),
    );
    expect(trips).toBe(1);
    expect(result.created).toBe(true);
    expect(result.user).toMatchObject({
      namespace: ISS,
      provenance: 'jit',
      status: 'active',
      statusDecisions: {},
      email: 'one@x.test',
      roles: ['reader'],
      attributes: { team: 'a"b,c' },
    });
    // What the JIT writer stored is what every lookup reads back.
    expect(await repo.findByKey(keyOf('one'))).toEqual(result.user);
    // A request whose answer was lost (its deadline passed as the write committed) is retried:
    // the retry finds exactly that user, in one round trip, and writes nothing.
    const again = await counted(() =>
      repo.provision(keyOf('one'), userOf({ email: 'one@x.test' })),
    );
    expect(again.trips).toBe(1);
    expect(again.result).toEqual({ user: result.user, created: false });
    expect(await counts()).toMatchObject({ users: 1, links: 1, orphans: 0 });
  });

  it('the loser of a race across connections waits for the winner and returns its user in the same round trip', async () => {
    const winner = await openWinner('raced', userOf({ email: 'raced@x.test' }));
    const loser = counted(() => repo.provision(keyOf('raced'), userOf({ email: 'raced@x.test' })));
    await someoneWaitsOnALock();
    await winner.settle('COMMIT');
    const { result, trips } = await loser;
    expect(trips).toBe(1);
    expect(result.created).toBe(false);
    expect(result.user.id).toBe(winner.id);
    expect(await counts()).toMatchObject({ users: 2, links: 2, orphans: 0 });
  });

  it('a winner that rolls back leaves the subject to the waiting request, which creates it', async () => {
    const winner = await openWinner('rolled', userOf({ email: 'rolled@x.test' }));
    const loser = repo.provision(keyOf('rolled'), userOf({ email: 'rolled@x.test' }));
    await someoneWaitsOnALock();
    await winner.settle('ROLLBACK');
    const result = await loser;
    expect(result.created).toBe(true);
    expect(result.user.id).not.toBe(winner.id);
    expect(await repo.findByKey(keyOf('rolled'))).toEqual(result.user);
  });

  it.each([
    ['email', { email: 'strategy-e@x.test' }, 'strategy-e@x.test'],
    ['username', { username: 'strategy-u', email: 'strategy-u@x.test' }, 'strategy-u'],
  ] as const)(
    'by %s (the user row is the key): the loser reads the winner in the same round trip',
    async (strategy, fields, subject) => {
      const winner = await openWinner(subject, userOf(fields), strategy);
      const loser = counted(() => repo.provision(keyOf(subject, strategy), userOf(fields)));
      await someoneWaitsOnALock();
      await winner.settle('COMMIT');
      const { result, trips } = await loser;
      expect([trips, result.created, result.user.id]).toEqual([1, false, winner.id]);
      expect(await repo.findByKey(keyOf(subject, strategy))).toEqual(result.user);
    },
  );

  it('a different user holding the email or username: PROVISIONING_REJECTED, and nothing written', async () => {
    // A user of the issuer's own namespace (its unique index)...
    await sql.query(
      `INSERT INTO users (namespace, email, username, provenance) VALUES ($1, 'held@x.test', 'held', 'scim')`,
      [ISS],
    );
    // ...an operator's user (the trigger: its identifiers are its own in every namespace)...
    await sql.query(
      `INSERT INTO users (namespace, email, provenance) VALUES ('', 'operator@x.test', 'admin')`,
    );
    // ...and another issuer's user, which never blocks this issuer's JIT.
    await sql.query(
      `INSERT INTO users (namespace, email, provenance) VALUES ($1, 'elsewhere@x.test', 'scim')`,
      [OTHER],
    );
    const before = await counts();
    for (const [subject, fields] of [
      ['takes-email', { email: 'HELD@x.test' }],
      ['takes-username', { email: 'fresh@x.test', username: 'held' }],
      ['takes-operators', { email: 'operator@x.test' }],
    ] as const) {
      const error = await repo.provision(keyOf(subject), userOf(fields)).catch((e: unknown) => e);
      expect([subject, isResolutionError(error) && error.reason]).toEqual([
        subject,
        'PROVISIONING_REJECTED',
      ]);
      expect(await repo.findByKey(keyOf(subject))).toBeNull();
    }
    expect(await counts()).toEqual(before);
    const elsewhere = await repo.provision(
      keyOf('elsewhere'),
      userOf({ email: 'elsewhere@x.test' }),
    );
    expect(elsewhere.created).toBe(true);
  });

  it('a conflict with a concurrent, different user is PROVISIONING_REJECTED once that user commits', async () => {
    const winner = await openWinner('first-claimant', userOf({ email: 'contested@x.test' }));
    const loser = repo
      .provision(keyOf('second-claimant'), userOf({ email: 'contested@x.test' }))
      .catch((e: unknown) => e);
    await someoneWaitsOnALock();
    await winner.settle('COMMIT');
    const error = await loser;
    expect(isResolutionError(error) && error.reason).toBe('PROVISIONING_REJECTED');
    expect(await repo.findByKey(keyOf('second-claimant'))).toBeNull();
    expect((await counts())?.orphans).toBe(0);
  });

  it('the dry run makes the same call, conflicts included, and keeps nothing', async () => {
    const before = await counts();
    const dry = await repo.provision(keyOf('dry'), userOf({ email: 'dry@x.test' }), {
      dryRun: true,
    });
    expect(dry.created).toBe(true);
    const refused = await repo
      .provision(keyOf('dry-held'), userOf({ email: 'held@x.test' }), { dryRun: true })
      .catch((e: unknown) => e);
    expect(isResolutionError(refused) && refused.reason).toBe('PROVISIONING_REJECTED');
    expect(await counts()).toEqual(before);
    expect(await repo.findByKey(keyOf('dry'))).toBeNull();
  });

  it('past its deadline nothing starts, and a lock wait ends at the deadline without writing afterwards', async () => {
    const before = await counts();
    const { result: late, trips } = await counted(() =>
      repo
        .provision(keyOf('late'), userOf({ email: 'late@x.test' }), { deadlineAt: Date.now() - 1 })
        .catch((e: unknown) => e),
    );
    expect(isResolutionError(late) && late.reason).toBe('USER_STORE_UNAVAILABLE');
    expect(trips).toBe(0);

    // Another replica holds the subject's link, uncommitted, past this request's deadline.
    const winner = await openWinner('held-past', userOf({ email: 'held-past@x.test' }));
    const started = Date.now();
    const error = await repo
      .provision(keyOf('held-past'), userOf({ email: 'held-past@x.test' }), {
        deadlineAt: Date.now() + 300,
      })
      .catch((e: unknown) => e);
    const ms = Date.now() - started;
    expect(isResolutionError(error) && error.reason).toBe('USER_STORE_UNAVAILABLE');
    expect(ms).toBeLessThan(1_000);
    // The winner goes away: the answered request's call is over, so nothing of it is written.
    await winner.settle('ROLLBACK');
    await sleep(500);
    expect(await counts()).toEqual(before);
    expect(await repo.findByKey(keyOf('held-past'))).toBeNull();
  });

  it('the function goes down and comes back with its migration', async () => {
    const exists = async () =>
      (await sql.query(`SELECT 1 FROM pg_proc WHERE proname = 'resolver_jit_provision'`)).rowCount;
    expect(await exists()).toBe(1);
    // Undo the migrations down to the function's own, later ones first (bounded).
    const applied = async () =>
      (
        await sql.query(`SELECT 1 FROM migrations WHERE name = $1`, [
          'JitProvisionFunction1765152000000',
        ])
      ).rowCount;
    for (let i = 0; i < 10 && (await applied()) === 1; i++)
      await ds.undoLastMigration({ transaction: 'each' });
    expect(await applied()).toBe(0);
    expect(await exists()).toBe(0);
    await runMigrations(ds);
    expect(await exists()).toBe(1);
  });
});
