import { eventually } from '../support/eventually';
import { perSuite } from '../support/per-suite';
import { ResolverProcess } from '../support/resolver-process';
import { ADMIN_TOKEN, AUDIENCE, SsfPollWorld } from './ssf-poll-world';

/**
 * Two resolver processes (the built service, started as production starts it) on one database:
 * the first holds the poller's advisory lock; killed with SIGKILL (no shutdown hook), Postgres
 * releases its lock with its connection and the second takes over.
 */
describe('SSF poller across two processes', () => {
  const world = perSuite(new SsfPollWorld(), 'ssf_poll_processes');
  const procs: ResolverProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
  });

  const start = async () => {
    const proc = await ResolverProcess.start(
      world.databaseUrl,
      {
        logging: { level: 'warn' },
        issuers: [
          {
            issuer: world.issuer,
            jwksUri: `${world.idp.base}/jwks/idp`,
            audiences: [AUDIENCE],
            algorithms: ['RS256'],
          },
        ],
        ssf: { transmitters: [world.transmitterConfig()] },
      },
      { ADMIN_TOKEN, SSF_AUTH: `Bearer ${world.tx.bearer}` },
    );
    procs.push(proc);
    return proc;
  };
  const lockPids = async () =>
    (
      await world.sql.query(
        `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND a.application_name = 'subject-resolver-ssf-poller' AND a.datname = current_database()`,
      )
    ).rows.map((r: { pid: number }) => r.pid);

  it('the survivor takes over the polling when the holder is killed', async () => {
    const first = await start();
    await eventually(
      'the first process holds the lock',
      async () => (await lockPids()).length === 1,
      10_000,
    );
    const [held] = await lockPids();
    const second = await start();
    const before = await world.tx.emit({
      type: 'risk-level-change',
      subject: { format: 'iss_sub', iss: world.issuer, sub: 'x' },
    });
    await eventually('polled by the first', async () => world.tx.acked.includes(before), 10_000);
    expect(await lockPids()).toEqual([held]);

    await first.kill();
    await world.seed('erin');
    const token = await world.token('erin');
    const jti = await world.tx.emit({
      type: 'account-disabled',
      subject: { format: 'iss_sub', iss: world.issuer, sub: 'erin' },
    });
    await eventually('polled by the survivor', async () => world.tx.acked.includes(jti), 15_000);
    const pids = await lockPids();
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(held);
    const answer = await fetch(`${second.url}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { reason: string }).reason).toBe('USER_DISABLED');
    expect(world.tx.maxConcurrentPolls).toBe(1);
  });
});
