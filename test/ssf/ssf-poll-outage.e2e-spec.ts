import { eventually } from '../support/eventually';
import { perSuite } from '../support/per-suite';
import type { ResolverHarness } from '../support/resolver-harness';
import { SsfTransmitter } from '../support/ssf-transmitter';
import { SsfPollWorld } from './ssf-poll-world';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(app: ResolverHarness, pattern: RegExp): Promise<number> {
  const text = (await app.http('/metrics')).body as string;
  const match = pattern.exec(text);
  return match ? Number(match[1]) : NaN;
}
const lag = (app: ResolverHarness) =>
  metric(app, /^resolver_ssf_poll_lag_seconds\{transmitter="tx"\} (\S+)$/m);

/**
 * The transmitter down: the poller backs off (exponentially, capped), readiness stays up, and
 * the lag grows until the transmitter is back. A transmitter whose discovery names another
 * issuer is never polled.
 */
describe('SSF poller outages', () => {
  const world = perSuite(
    new SsfPollWorld({ intervalSeconds: 1, maxBackoffSeconds: 8 }),
    'ssf_poll_outage',
  );
  let app: ResolverHarness;

  beforeAll(async () => {
    app = await world.startResolver();
    await eventually('the stream is created and polled', async () => world.tx.polls.length > 0);
  });

  it('backs off while the transmitter answers 503, stays ready, and the lag grows', async () => {
    const pollPath = new URL(world.tx.endpoints.poll(world.tx.stream().stream_id)).pathname;
    world.tx.fail(pollPath, 503);
    const before = world.tx.requests(pollPath);
    const lagBefore = await lag(app);
    for (let i = 0; i < 7; i++) {
      await sleep(1_000);
      expect((await app.http('/health/ready')).status).toBe(200);
    }
    // At a steady 1 s interval ~7 polls; with backoff 1, 2, 4 s (cap 8) at most 4 or 5.
    const attempts = world.tx.requests(pollPath) - before;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(5);
    const lagAfter = await lag(app);
    expect(lagAfter).toBeGreaterThan(lagBefore);
    expect(lagAfter).toBeGreaterThanOrEqual(5);
    expect(
      await metric(app, /^resolver_ssf_polls_total\{transmitter="tx",result="failed"\} (\S+)$/m),
    ).toBe(attempts);
    const { rows } = await world.sql.query(
      `SELECT last_error FROM ssf_streams WHERE transmitter = 'tx'`,
    );
    expect(rows[0].last_error).toMatch(/HTTP 503/);
    expect(rows[0].last_error).not.toContain(world.tx.bearer);

    world.tx.recover();
    const jti = await world.tx.emit({
      type: 'risk-level-change',
      subject: { format: 'iss_sub', iss: world.issuer, sub: 'x' },
    });
    await eventually('polling resumes', async () => world.tx.acked.includes(jti), 12_000);
    await eventually('the lag falls back', async () => (await lag(app)) < 2);
  });

  it('a hung transmitter is timed out, never blocking readiness', async () => {
    const pollPath = new URL(world.tx.endpoints.poll(world.tx.stream().stream_id)).pathname;
    world.tx.hang(pollPath);
    const before = await metric(
      app,
      /^resolver_ssf_polls_total\{transmitter="tx",result="failed"\} (\S+)$/m,
    );
    await eventually(
      'a timed-out poll counted',
      async () =>
        (await metric(
          app,
          /^resolver_ssf_polls_total\{transmitter="tx",result="failed"\} (\S+)$/m,
        )) > before,
      6_000,
    );
    expect((await app.http('/health/ready')).status).toBe(200);
    world.tx.recover();
  });

  describe('a discovery document naming another issuer', () => {
    let impostor: SsfTransmitter;
    let other: ResolverHarness;
    beforeAll(async () => {
      impostor = await SsfTransmitter.start();
      impostor.discoveryOverrides = { issuer: 'https://someone-else.example' };
      other = await world.startResolver(
        world.transmitterConfig({
          name: 'impostor',
          issuer: impostor.issuer,
          audience: impostor.audience,
        }),
      );
    });
    afterAll(() => impostor.stop());

    it('is refused: counted, never polled, no stream created, readiness up', async () => {
      await eventually(
        'refused',
        async () =>
          (await metric(
            other,
            /^resolver_ssf_polls_total\{transmitter="impostor",result="refused"\} (\S+)$/m,
          )) >= 1,
      );
      expect(impostor.requests('/.well-known/ssf-configuration')).toBeGreaterThanOrEqual(1);
      expect(impostor.requests('/ssf/streams')).toBe(0);
      expect(impostor.polls).toHaveLength(0);
      expect(impostor.streams.size).toBe(0);
      expect((await other.http('/health/ready')).status).toBe(200);
    });
  });
});
