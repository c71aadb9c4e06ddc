import type { SsfConfig } from '@resolver/config';
import type {
  ReceivedSetRepository,
  TransmitterState,
  TransmitterStateRepository,
} from '@resolver/identity';
import { type ResolverLogger, ResolverMetrics, SystemClock } from '@resolver/observability';
import { SsfStreams } from './ssf-streams';

const config = {
  transmitters: [
    { name: 'okta', issuer: 'https://idp.test', delivery: {}, silenceAlertSeconds: 60 },
  ],
  jtiRetentionSeconds: 3600,
} as unknown as SsfConfig;
const quiet = { pino: { warn: () => undefined } } as unknown as ResolverLogger;

function streamsWith(states: TransmitterState[]) {
  const metrics = new ResolverMetrics([]);
  const repo = { list: () => Promise.resolve(states) } as unknown as TransmitterStateRepository;
  const received = {} as ReceivedSetRepository;
  const streams = new SsfStreams(config, repo, received, new SystemClock(), metrics, quiet);
  return { streams, metrics };
}

async function age(metrics: ResolverMetrics): Promise<number> {
  const text = await metrics.registry.metrics();
  const m = /resolver_ssf_last_event_age_seconds\{transmitter="okta"\} ([0-9.e+-]+)/.exec(text);
  if (!m) throw new Error('no age series for okta');
  return Number(m[1]);
}

describe('SsfStreams: the silence clock', () => {
  it('a transmitter that never sent a SET is silent since the replica started watching', async () => {
    const { streams, metrics } = streamsWith([]);
    await streams.refresh();
    const first = await age(metrics);
    await new Promise((r) => setTimeout(r, 60));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(await age(metrics)).toBeGreaterThan(first);
  });

  it('after a SET the age counts from it, not from the start', async () => {
    const lastEventAt = new Date(Date.now() - 3_600_000);
    const { streams, metrics } = streamsWith([{ name: 'okta', lastEventAt } as TransmitterState]);
    await streams.refresh();
    expect(await age(metrics)).toBeGreaterThanOrEqual(3600);
  });
});
