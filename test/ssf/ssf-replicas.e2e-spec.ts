import { perSuite } from '../support/per-suite';
import { iss, SsfWorld } from './ssf-world';

/**
 * Two replicas on one database: an event pushed to replica A takes effect on replica B through
 * the change notification, measured over ≥ 20 events (median and max printed; only the
 * issue's bound, 1 s, is asserted). A SET replayed to the other replica is not applied again.
 */
describe('shared signals: two replicas', () => {
  const w = perSuite(
    new (class extends SsfWorld {
      override start(name: string) {
        return super.start(name, 2);
      }
    })(),
    'ssf_replicas',
  );

  /** Resolves on replica B (HTTP) until `expected`; the milliseconds it took, bounded. */
  async function untilB(token: string, expected: string, boundMs = 5_000): Promise<number> {
    const start = performance.now();
    for (;;) {
      const res = await w.apps[1]!.resolveHttp({ token });
      const answer = res.status === 200 ? 'OK' : String(res.body.reason);
      const elapsed = performance.now() - start;
      if (answer === expected) return elapsed;
      if (elapsed > boundMs)
        throw new Error(`replica B still answers ${answer} after ${boundMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  it('session-revoked pushed to A is refused by B on every transport', async () => {
    await w.seed('roamer');
    const token = await w.token('roamer', 20);
    expect(await w.answer(token, 1)).toBe('OK');
    const pushed = await w.push(
      {
        type: 'session-revoked',
        subject: iss('roamer'),
        payload: { event_timestamp: w.now() - 5 },
      },
      {},
      0,
    );
    expect(pushed.status).toBe(202);
    await untilB(token, 'TOKEN_REVOKED');
    expect(await w.answers(token, 1)).toEqual({
      http: 'TOKEN_REVOKED',
      grpc: 'TOKEN_REVOKED',
      forwardAuth: 'TOKEN_REVOKED',
      extAuthz: 'TOKEN_REVOKED',
    });
    // The same SET replayed to B: acknowledged, not applied again.
    const replay = await w.tx.push(w.pushUrl('okta', 1), pushed.set);
    expect(replay.status).toBe(202);
    expect(await w.metrics(1)).toMatch(
      /resolver_ssf_events_total\{transmitter="okta",event="session-revoked",result="duplicate"\} 1/,
    );
  });

  it('propagation to the second replica, over 24 events: within 1 s each (median and max printed)', async () => {
    await w.seed('flipper');
    const token = await w.token('flipper', 5);
    expect(await untilB(token, 'OK')).toBeGreaterThanOrEqual(0);
    const base = w.now() - 300;
    const times: number[] = [];
    for (let i = 0; i < 24; i++) {
      const disable = i % 2 === 0;
      const pushed = await w.push(
        {
          type: disable ? 'account-disabled' : 'account-enabled',
          subject: iss('flipper'),
          // Strictly increasing event times: each event is newer than the last one applied.
          payload: { event_timestamp: base + i },
        },
        {},
        0,
      );
      expect(pushed.status).toBe(202);
      // B answered from its cache before the push (the warm path): the change must reach it.
      times.push(await untilB(token, disable ? 'USER_DISABLED' : 'OK'));
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = ((sorted[11] as number) + (sorted[12] as number)) / 2;
    const max = sorted[sorted.length - 1] as number;
    console.log(
      `ssf propagation A -> B over ${times.length} events: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms, min ${(sorted[0] as number).toFixed(1)} ms`,
    );
    expect(max).toBeLessThanOrEqual(1_000);
  });
});
