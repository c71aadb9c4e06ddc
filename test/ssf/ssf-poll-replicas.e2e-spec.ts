import { SsfPollerService } from '../../apps/resolver/src/ssf-streams/ssf-poller.service';
import { eventually } from '../support/eventually';
import { perSuite } from '../support/per-suite';
import type { ResolverHarness } from '../support/resolver-harness';
import { SsfPollWorld } from './ssf-poll-world';

const holds = (app: ResolverHarness) =>
  app.resolver.app.get(SsfPollerService, { strict: false }).poller.holds('tx');

/** Advisory locks held by the resolvers' pollers, as Postgres sees them. */
async function pollerLocks(world: SsfPollWorld): Promise<{ pid: number }[]> {
  const { rows } = await world.sql.query(
    `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'subject-resolver-ssf-poller'
        AND a.datname = current_database()`,
  );
  return rows as { pid: number }[];
}

/**
 * Two replicas on one database: exactly one polls (the holder of the Postgres advisory lock),
 * the other learns the effects through the change notifications, and when the holder goes (its
 * connection killed, or shut down) the other takes over.
 */
describe('SSF poller across replicas', () => {
  const world = perSuite(new SsfPollWorld(), 'ssf_poll_replicas');
  const iss = (sub: string) => ({ format: 'iss_sub', iss: world.issuer, sub });

  beforeAll(async () => {
    await world.startResolver();
    await world.startResolver();
    await eventually('the stream is created', async () => world.tx.streams.size === 1);
  });

  it('one replica holds the lock and polls; the other refuses the user within a second of the ack', async () => {
    await eventually('one holder', async () => world.apps.filter(holds).length === 1);
    expect(await pollerLocks(world)).toHaveLength(1);
    const [a, b] = world.apps as [ResolverHarness, ResolverHarness];
    await world.seed('dave');
    const token = await world.token('dave');
    // Both replicas have the user cached before the event.
    expect((await a.resolveHttp({ token })).status).toBe(200);
    expect((await b.resolveHttp({ token })).status).toBe(200);
    const jti = await world.tx.emit({ type: 'account-disabled', subject: iss('dave') });
    await eventually('acknowledged', async () => world.tx.acked.includes(jti));
    const other = holds(a) ? b : a;
    await eventually(
      'the non-polling replica refuses',
      async () => (await other.resolveHttp({ token })).body.reason === 'USER_DISABLED',
      1_000,
    );
    // Never two polls in flight at once, over every poll so far.
    expect(world.tx.maxConcurrentPolls).toBe(1);
    expect(world.apps.filter(holds)).toHaveLength(1);
  });

  it('when the holder loses its connection (a crash), one replica takes over and polling goes on', async () => {
    const [{ pid }] = (await pollerLocks(world)) as [{ pid: number }];
    await world.sql.query('SELECT pg_terminate_backend($1)', [pid]);
    const jti = await world.tx.emit({ type: 'risk-level-change', subject: iss('nobody-1') });
    await eventually(
      'acknowledged after the takeover',
      async () => world.tx.acked.includes(jti),
      10_000,
    );
    await eventually('one holder again', async () => (await pollerLocks(world)).length === 1);
    expect((await pollerLocks(world))[0]?.pid).not.toBe(pid);
    expect(world.tx.maxConcurrentPolls).toBe(1);
  });

  it('when the holder shuts down, it releases the lock and the other replica polls', async () => {
    await eventually('one holder', async () => world.apps.filter(holds).length === 1);
    const holder = world.apps.find(holds) as ResolverHarness;
    await world.stopResolver(holder);
    const [survivor] = world.apps as [ResolverHarness];
    const jti = await world.tx.emit({ type: 'risk-level-change', subject: iss('nobody-2') });
    await eventually(
      'acknowledged by the survivor',
      async () => world.tx.acked.includes(jti),
      10_000,
    );
    expect(holds(survivor)).toBe(true);
    expect(await pollerLocks(world)).toHaveLength(1);
    expect(world.tx.maxConcurrentPolls).toBe(1);
  });
});
