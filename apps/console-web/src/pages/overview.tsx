import { useEffect, useState } from 'preact/hooks';
import { type Api, getPublic } from '../api';
import { when } from '../format';
import { PageTitle } from '../page-title';
import type { Overview, Readiness, SsfStream } from '../types';

const REFRESH_MS = 5_000;
/** Distinct colours for the chart's series (resolved first); the legend table carries the numbers. */
const PALETTE = [
  '#2e7d32',
  '#c62828',
  '#ef6c00',
  '#6a1b9a',
  '#1565c0',
  '#ad1457',
  '#00838f',
  '#5d4037',
  '#455a64',
];

interface Series {
  readonly name: string;
  readonly colour: string;
  readonly values: readonly number[];
  readonly total: number;
}

function series(recent: Overview['recent']): Series[] {
  const out: Series[] = [];
  const push = (name: string, values: number[]) =>
    out.push({
      name,
      values,
      colour: PALETTE[out.length % PALETTE.length] as string,
      total: values.reduce((a, b) => a + b, 0),
    });
  push(
    'resolved',
    recent.buckets.map((b) => b.resolved),
  );
  for (const { reason } of recent.reasons)
    push(
      reason,
      recent.buckets.map((b) => b.byReason[reason] ?? 0),
    );
  return out;
}

/** Stacked bars, one per bucket; an image for sighted users, the table below for everyone. */
function Chart({ recent, all }: { recent: Overview['recent']; all: Series[] }) {
  const width = 720;
  const height = 160;
  const n = recent.buckets.length;
  const totals = recent.buckets.map((_, i) => all.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const barWidth = width / Math.max(1, n);
  const summary = all.map((s) => `${s.name} ${s.total}`).join(', ');
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Answers per ${recent.bucketSeconds} s over the last ${recent.windowSeconds / 60} minutes: ${summary}`}
    >
      <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} stroke="#999" />
      {recent.buckets.map((_, i) => {
        let y = height;
        return all.map((s) => {
          const v = s.values[i] ?? 0;
          if (!v) return null;
          const h = (v / max) * (height - 4);
          y -= h;
          return (
            <rect
              x={i * barWidth + 0.5}
              y={y}
              width={Math.max(1, barWidth - 1)}
              height={h}
              fill={s.colour}
            />
          );
        });
      })}
    </svg>
  );
}

function Recent({ recent }: { recent: Overview['recent'] }) {
  const all = series(recent);
  return (
    <section aria-labelledby="recent-title" class="card">
      <h2 id="recent-title">Answers, last {recent.windowSeconds / 60} minutes</h2>
      <Chart recent={recent} all={all} />
      <table class="legend">
        <caption>By reason (bars are {recent.bucketSeconds} s each; newest on the right)</caption>
        <thead>
          <tr>
            <th scope="col">Answer</th>
            <th scope="col">Count</th>
          </tr>
        </thead>
        <tbody>
          {all.map((s) => (
            <tr>
              <th scope="row">
                <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
                  <rect width="10" height="10" fill={s.colour} />
                </svg>
                <code>{s.name}</code>
              </th>
              <td>{s.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Keys({ details }: { details: NonNullable<Readiness['details']> }) {
  const issuers = (details.keys?.issuers ?? {}) as Record<
    string,
    { status: string; source: string; keys: number; lastFetchAt?: string; lastError?: string }
  >;
  return (
    <section aria-labelledby="keys-title" class="card">
      <h2 id="keys-title">Issuer keys</h2>
      <div class="scroll" tabIndex={0} role="region" aria-label="Issuer keys">
        <table>
          <thead>
            <tr>
              <th scope="col">Issuer</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
              <th scope="col">Keys</th>
              <th scope="col">Fetched</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(issuers).map(([issuer, k]) => (
              <tr>
                <td>{issuer}</td>
                <td>
                  <span
                    class={`badge ${k.status === 'ok' ? 'pass' : k.status === 'pending' ? 'skip' : 'fail'}`}
                  >
                    {k.status}
                  </span>
                </td>
                <td>{k.source}</td>
                <td>{k.keys}</td>
                <td>{when(k.lastFetchAt)}</td>
                <td>{k.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Store({
  details,
  pool,
}: {
  details: NonNullable<Readiness['details']>;
  pool: Overview['pool'];
}) {
  const listener = details.listener as
    { connected?: boolean; cachesInUse?: boolean; since?: string; reconnects?: number } | undefined;
  return (
    <section aria-labelledby="store-title" class="card">
      <h2 id="store-title">Database and listener</h2>
      <dl class="facts">
        <dt>Database</dt>
        <dd>
          <span class={`badge ${details.database?.status === 'up' ? 'pass' : 'fail'}`}>
            {details.database?.status ?? 'unknown'}
          </span>
        </dd>
        <dt>Migrations</dt>
        <dd>
          {details.migrations?.status === 'up'
            ? 'applied'
            : (textOf(details.migrations?.message) ??
              textOf(details.migrations?.status) ??
              'unknown')}
        </dd>
        <dt>Pool</dt>
        <dd>
          {pool ? `${pool.inUse} in use, ${pool.idle} idle, ${pool.waiting} waiting` : 'not open'}
        </dd>
        <dt>Change listener</dt>
        <dd>
          {listener ? (
            <>
              <span class={`badge ${listener.connected ? 'pass' : 'fail'}`}>
                {listener.connected ? 'connected' : 'disconnected'}
              </span>{' '}
              since {when(listener.since)}; caches {listener.cachesInUse ? 'in use' : 'bypassed'};{' '}
              {listener.reconnects ?? 0} reconnects
            </>
          ) : (
            'unknown'
          )}
        </dd>
      </dl>
    </section>
  );
}

/** Each Shared Signals transmitter's stream: status, last event, last verification. */
function Streams({ streams }: { streams: readonly SsfStream[] }) {
  return (
    <section aria-labelledby="streams-title" class="card">
      <h2 id="streams-title">Shared Signals streams</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Transmitter</th>
            <th scope="col">Delivery</th>
            <th scope="col">Status</th>
            <th scope="col">Last event</th>
            <th scope="col">Verified</th>
          </tr>
        </thead>
        <tbody>
          {streams.map((s) => (
            <tr key={s.transmitter}>
              <td title={s.issuer}>{s.transmitter}</td>
              <td>{s.delivery.join(', ')}</td>
              <td>
                <span
                  class={`badge ${s.status === 'enabled' ? 'pass' : s.status === 'unknown' ? 'warn' : 'fail'}`}
                >
                  {s.status}
                </span>
                {s.statusReason ? ` ${s.statusReason}` : ''}
              </td>
              <td>{s.lastEventAt ? when(s.lastEventAt) : 'none yet'}</td>
              <td>{s.verifiedAt ? when(s.verifiedAt) : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The last minutes of answers (from the in-process ring buffer) and what readiness reports. */
export function OverviewPage({ api }: { api: Api }) {
  const [overview, setOverview] = useState<Overview | undefined>();
  const [ready, setReady] = useState<Readiness | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    const refresh = async () => {
      try {
        const [o, r] = await Promise.all([
          api.get<Overview>('/console/api/overview'),
          getPublic<Readiness>('/health/ready'),
        ]);
        if (!live) return;
        if (o.ok) setOverview(o.body);
        setReady(r.body);
        setError(o.ok ? undefined : `The overview answered ${o.status}`);
      } catch (e) {
        if (live) setError(String(e));
      }
    };
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);
  return (
    <>
      <PageTitle>Overview</PageTitle>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {ready && (
        <p>
          Readiness:{' '}
          <span class={`badge ${ready.status === 'ok' ? 'pass' : 'fail'}`}>
            {ready.status === 'ok' ? 'ready' : 'not ready'}
          </span>
        </p>
      )}
      {overview && <Recent recent={overview.recent} />}
      {ready?.details && <Keys details={ready.details} />}
      {ready?.details && <Store details={ready.details} pool={overview?.pool ?? null} />}
      {overview?.streams && overview.streams.length > 0 && <Streams streams={overview.streams} />}
    </>
  );
}

/** A readiness field as text, if it is one. */
function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
