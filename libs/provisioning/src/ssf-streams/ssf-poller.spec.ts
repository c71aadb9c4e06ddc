import { buildConfig } from '@resolver/config';
import {
  type StreamStatus,
  type TransmitterState,
  TransmitterStateRepository,
} from '@resolver/identity';
import { InMemorySsfStreamRepository } from '@resolver/identity/testing';
import type { TransmitterFetch, TransmitterRequest } from '@resolver/tokens';
import { AdminError } from '../admin/admin-error';
import { MAX_DRAIN_POLLS, type PollResult, SsfPoller, type SetVerdict } from './ssf-poller';
import { SsfStreamManagement } from './stream-management';

const TX = 'https://tx.example';
const POLL_URL = `${TX}/poll/s1`;

class States extends TransmitterStateRepository {
  readonly rows = new Map<string, TransmitterState>();
  list() {
    return Promise.resolve([...this.rows.values()]);
  }
  get(name: string) {
    return Promise.resolve(this.rows.get(name) ?? null);
  }
  touch() {
    return Promise.resolve();
  }
  recordStatus(name: string, status: StreamStatus, reason: string | null, at: Date) {
    this.rows.set(name, {
      name,
      streamStatus: status,
      streamStatusReason: reason,
      streamStatusAt: at,
      lastEventAt: null,
      lastEventJti: null,
      verifiedAt: null,
      verificationState: null,
    });
    return Promise.resolve();
  }
  recordVerification() {
    return Promise.resolve();
  }
}

function transmitters(discovery: boolean) {
  return buildConfig(
    {
      issuers: [
        {
          issuer: 'https://idp.example',
          jwksUri: 'https://idp.example/jwks',
          audiences: ['a'],
          algorithms: ['RS256'],
        },
      ],
      ssf: {
        transmitters: [
          {
            name: 'tx',
            issuer: TX,
            ...(discovery ? { discovery: true } : { jwksUri: `${TX}/jwks` }),
            algorithms: ['ES256'],
            audience: 'aud',
            resolver: { issuer: 'https://idp.example' },
            delivery: { poll: { endpoint: POLL_URL, maxEvents: 2 } },
          },
        ],
      },
    },
    {},
    { source: 'spec', baseDir: '/' },
  ).ssf.transmitters;
}

/** A transmitter whose poll answers come from a script; every request recorded. */
function transmitter(answers: ((r: TransmitterRequest) => unknown)[]) {
  const requests: TransmitterRequest[] = [];
  const fetchJson: TransmitterFetch = (request) => {
    requests.push(request);
    if (request.url.includes('.well-known'))
      return Promise.resolve({ status: 200, body: { issuer: 'https://evil.example' } });
    const next = answers.shift() ?? (() => ({ sets: {}, moreAvailable: false }));
    const body = next(request);
    return body instanceof Error ? Promise.reject(body) : Promise.resolve({ status: 200, body });
  };
  return { requests, fetchJson };
}

function poller(
  fetchJson: TransmitterFetch,
  verdicts: (set: string) => Promise<SetVerdict>,
  options: { held?: boolean; discovery?: boolean } = {},
) {
  const streams = new InMemorySsfStreamRepository();
  const config = transmitters(options.discovery ?? false);
  const management = new SsfStreamManagement(
    config,
    streams,
    new States(),
    () => new Date(),
    fetchJson,
  );
  const results: PollResult[] = [];
  const lock = {
    held: options.held ?? true,
    tryAcquire: () => Promise.resolve(options.held ?? true),
    release: () => Promise.resolve(),
  };
  const p = new SsfPoller(
    config,
    management,
    streams,
    (_t, set) => verdicts(set),
    () => ({ tryAcquire: lock.tryAcquire, held: () => lock.held, release: lock.release }),
    { polled: (_t, r) => results.push(r), record: () => undefined },
    () => new Date(),
    fetchJson,
  );
  return { p, streams, results };
}

const ok = (): Promise<SetVerdict> => Promise.resolve({ result: 'ok' });
const bodies = (requests: TransmitterRequest[]) =>
  requests.filter((r) => r.url === POLL_URL).map((r) => r.body as Record<string, unknown>);

describe('SsfPoller', () => {
  it('acknowledges accepted SETs, reports refused ones in setErrs, at once', async () => {
    const tx = transmitter([() => ({ sets: { a: 'A', b: 'B' }, moreAvailable: false })]);
    const { p, streams } = poller(tx.fetchJson, (set) =>
      Promise.resolve(
        set === 'B' ? { result: 'err', err: 'invalid_key', description: 'kid' } : { result: 'ok' },
      ),
    );
    expect(await p.pollNow('tx')).toEqual({ polled: 'ok', sets: 2 });
    expect(bodies(tx.requests)).toEqual([
      { maxEvents: 2, returnImmediately: true },
      {
        maxEvents: 0,
        returnImmediately: true,
        ack: ['a'],
        setErrs: { b: { err: 'invalid_key', description: 'kid' } },
      },
    ]);
    expect((await streams.get('tx'))?.lastPollOkAt).toBeInstanceOf(Date);
  });

  it('neither acknowledges nor refuses a SET the receiver could not decide, and carries earlier acks', async () => {
    const tx = transmitter([() => ({ sets: { a: 'A', b: 'B' }, moreAvailable: true })]);
    const { p, results } = poller(tx.fetchJson, (set) =>
      set === 'B' ? Promise.reject(new Error('store down')) : ok(),
    );
    await expect(p.pollNow('tx')).rejects.toMatchObject({ code: 'UPSTREAM' });
    expect(results).toEqual(['failed']);
    await p.pollNow('tx');
    // The next poll acknowledges `a` (carried); `b` is neither acknowledged nor refused.
    expect(bodies(tx.requests)[1]).toEqual({ maxEvents: 2, returnImmediately: true, ack: ['a'] });
  });

  it('keeps acks that did not reach the transmitter for the next poll', async () => {
    const tx = transmitter([
      () => ({ sets: { a: 'A' }, moreAvailable: false }),
      () => new Error('down'),
    ]);
    const { p } = poller(tx.fetchJson, ok);
    await p.pollNow('tx');
    await p.pollNow('tx');
    expect(bodies(tx.requests).at(-1)).toEqual({
      maxEvents: 2,
      returnImmediately: true,
      ack: ['a'],
    });
  });

  it('drains moreAvailable with back-to-back polls, at most MAX_DRAIN_POLLS', async () => {
    let n = 0;
    const forever = () => ({ sets: { [`j${n++}`]: 'S' }, moreAvailable: true });
    const tx = transmitter(Array.from({ length: 100 }, () => forever));
    const { p } = poller(tx.fetchJson, ok);
    expect((await p.pollNow('tx')).sets).toBe(MAX_DRAIN_POLLS);
    const polls = bodies(tx.requests);
    // MAX_DRAIN_POLLS polls, each acknowledging the one before, then one acknowledgement only.
    expect(polls).toHaveLength(MAX_DRAIN_POLLS + 1);
    expect(polls[1]?.ack).toEqual(['j0']);
    expect(polls.at(-1)).toEqual({
      maxEvents: 0,
      returnImmediately: true,
      ack: [`j${MAX_DRAIN_POLLS - 1}`],
    });
  });

  it('refuses to poll when another replica holds the lock', async () => {
    const tx = transmitter([]);
    const { p } = poller(tx.fetchJson, ok, { held: false });
    await expect(p.pollNow('tx')).rejects.toEqual(expect.any(AdminError));
    await expect(p.pollNow('tx')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(tx.requests).toHaveLength(0);
  });

  it('never polls a transmitter whose discovery names another issuer', async () => {
    const tx = transmitter([]);
    const { p, results, streams } = poller(tx.fetchJson, ok, { discovery: true });
    await expect(p.pollNow('tx')).rejects.toMatchObject({ code: 'UPSTREAM' });
    expect(results).toEqual(['refused']);
    expect(tx.requests.map((r) => r.url)).toEqual([`${TX}/.well-known/ssf-configuration`]);
    expect((await streams.get('tx'))?.lastError).toMatch(/names issuer "https:\/\/evil.example"/);
  });

  it('answers NOT_FOUND for an unknown transmitter', async () => {
    const { p } = poller(transmitter([]).fetchJson, ok);
    await expect(p.pollNow('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
