import { eventually } from '../support/eventually';
import { promtoolCheckMetrics } from '../support/promtool';
import { perSuite } from '../support/per-suite';
import { makeKey } from '../support/token-factory';
import { SsfPollWorld } from './ssf-poll-world';

/**
 * Poll delivery (RFC 8936) against the transmitter fixture, on real Postgres and the real app:
 * the stream is created at the transmitter, events are polled and applied, what the receiver
 * accepted is acknowledged and what it refused is reported in setErrs, moreAvailable drains.
 */
describe('SSF poll delivery', () => {
  const world = perSuite(new SsfPollWorld(), 'ssf_poll');
  const iss = () => ({ format: 'iss_sub', iss: world.issuer, sub: '' });

  beforeAll(async () => {
    await world.startResolver();
  });
  const app = () => world.apps[0]!;

  it('creates the stream at the transmitter, polls, applies and acknowledges an event', async () => {
    await eventually('the stream is created', async () => world.tx.streams.size === 1);
    expect(world.tx.stream().delivery.method).toBe('urn:ietf:rfc:8936');
    const id = await world.seed('alice');
    const token = await world.token('alice');
    expect((await app().resolveHttp({ token })).status).toBe(200);
    const jti = await world.tx.emit({
      type: 'account-disabled',
      subject: { ...iss(), sub: 'alice' },
      payload: { reason: 'hijacking' },
    });
    await eventually('the SET is acknowledged', async () => world.tx.acked.includes(jti));
    const answer = await app().resolveHttp({ token });
    expect(answer.status).toBe(403);
    expect(answer.body.reason).toBe('USER_DISABLED');
    const { rows } = await world.sql.query('SELECT status FROM users WHERE id = $1', [id]);
    expect(rows[0].status).toBe('disabled');
    expect(world.tx.setErrs.has(jti)).toBe(false);
  });

  it('reports refused SETs in setErrs with their error, and never acknowledges them', async () => {
    const forger = await makeKey('ES256', 'forger');
    const forged = await world.tx.mint(
      { type: 'account-disabled', subject: { ...iss(), sub: 'bob' } },
      { key: forger, header: { kid: world.tx.key.kid } },
    );
    const wrongAud = await world.tx.mint(
      { type: 'account-disabled', subject: { ...iss(), sub: 'bob' } },
      { aud: 'https://someone-else.example' },
    );
    const stream = world.tx.stream().stream_id;
    world.tx.enqueue(stream, forged.jti, forged.set);
    world.tx.enqueue(stream, wrongAud.jti, wrongAud.set);
    await eventually(
      'both refusals reported',
      async () => world.tx.setErrs.has(forged.jti) && world.tx.setErrs.has(wrongAud.jti),
    );
    expect(world.tx.setErrs.get(wrongAud.jti)?.err).toBe('invalid_audience');
    expect(world.tx.setErrs.get(forged.jti)?.err).toMatch(/^invalid_/);
    expect(typeof world.tx.setErrs.get(forged.jti)?.description).toBe('string');
    expect(world.tx.acked).not.toContain(forged.jti);
    expect(world.tx.acked).not.toContain(wrongAud.jti);
  });

  it('acknowledges a replayed SET and an unmatched subject without applying anything', async () => {
    const id = await world.seed('carol');
    const replay = await world.tx.mint({
      type: 'account-disabled',
      subject: { ...iss(), sub: 'carol' },
    });
    const stream = world.tx.stream().stream_id;
    // The receiver saw this jti applied... then the transmitter sends it again.
    await world.sql.query(`INSERT INTO ssf_received_sets (transmitter, jti) VALUES ('tx', $1)`, [
      replay.jti,
    ]);
    world.tx.enqueue(stream, replay.jti, replay.set);
    const nobody = await world.tx.emit({
      type: 'account-disabled',
      subject: { ...iss(), sub: 'nobody' },
    });
    await eventually(
      'both acknowledged',
      async () => world.tx.acked.includes(replay.jti) && world.tx.acked.includes(nobody),
    );
    const { rows } = await world.sql.query('SELECT status FROM users WHERE id = $1', [id]);
    expect(rows[0].status).toBe('active');
  });

  it('honours moreAvailable: one "poll now" drains more SETs than maxEvents, and acknowledges them all', async () => {
    const jtis: string[] = [];
    for (let i = 0; i < 7; i++)
      jtis.push(
        await world.tx.emit({ type: 'risk-level-change', subject: { ...iss(), sub: `u${i}` } }),
      );
    const polled = await world.admin(app(), 'POST', '/tx/poll');
    expect(polled.status).toBe(200);
    expect(polled.body.polled).toBe('ok');
    // Whichever drain ran (the background's or this one), it took all seven, 2 at a time.
    expect(world.tx.pending()).toBe(0);
    expect(world.tx.acked).toEqual(expect.arrayContaining(jtis));
    const delivering = world.tx.polls.filter((p) => p.delivered.some((j) => jtis.includes(j)));
    expect(delivering.map((p) => p.delivered.length)).toEqual([2, 2, 2, 1]);
    expect(delivering.every((p) => p.body.maxEvents === 2)).toBe(true);
  });

  it('records the poll in ssf_streams and exposes the lag and poll counts', async () => {
    const { rows } = await world.sql.query(
      `SELECT stream_id, delivery_method, endpoint_url, last_poll_ok_at, last_error FROM ssf_streams WHERE transmitter = 'tx'`,
    );
    expect(rows[0]).toMatchObject({
      stream_id: world.tx.stream().stream_id,
      delivery_method: 'urn:ietf:rfc:8936',
      endpoint_url: world.tx.endpoints.poll(world.tx.stream().stream_id),
      last_error: null,
    });
    expect(rows[0].last_poll_ok_at).toBeInstanceOf(Date);
    const metrics = (await app().http('/metrics')).body as string;
    expect(metrics).toMatch(/resolver_ssf_polls_total\{transmitter="tx",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/resolver_ssf_poll_lag_seconds\{transmitter="tx"\} \d/);
    // The new series pass promtool's lint (names, units, help) like every other.
    expect(await promtoolCheckMetrics(metrics)).toEqual({ code: 0, output: '' });
  });
});
