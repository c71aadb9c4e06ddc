import { buildConfig } from '@resolver/config';
import {
  type StreamStatus,
  type TransmitterState,
  TransmitterStateRepository,
} from '@resolver/identity';
import { InMemorySsfStreamRepository } from '@resolver/identity/testing';
import { TransmitterError, type TransmitterFetch, type TransmitterRequest } from '@resolver/tokens';
import { SsfStreamManagement } from './stream-management';

const TX = 'https://tx.example';

class States extends TransmitterStateRepository {
  readonly statuses: [StreamStatus, string | null][] = [];
  list(): Promise<TransmitterState[]> {
    return Promise.resolve([]);
  }
  get(): Promise<TransmitterState | null> {
    return Promise.resolve(null);
  }
  touch() {
    return Promise.resolve();
  }
  recordStatus(_name: string, status: StreamStatus, reason: string | null) {
    this.statuses.push([status, reason]);
    return Promise.resolve();
  }
  recordVerification() {
    return Promise.resolve();
  }
}

const config = (extra: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  buildConfig(
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
            discovery: true,
            algorithms: ['ES256'],
            audience: 'aud',
            resolver: { issuer: 'https://idp.example' },
            delivery: { poll: {} },
            events: { 'risk-level-change': 'none' },
            ...extra,
          },
        ],
      },
    },
    env,
    { source: 'spec', baseDir: '/' },
  ).ssf.transmitters;

const stream = (id: string, method = 'urn:ietf:rfc:8936') => ({
  stream_id: id,
  delivery: { method, endpoint_url: `${TX}/poll/${id}` },
  events_delivered: [],
});

/** A transmitter answering by method and path; every request recorded. */
function transmitter(routes: Record<string, (r: TransmitterRequest) => unknown>) {
  const requests: TransmitterRequest[] = [];
  const fetchJson: TransmitterFetch = (request) => {
    requests.push(request);
    const url = new URL(request.url);
    if (url.pathname === '/.well-known/ssf-configuration')
      return Promise.resolve({
        status: 200,
        body: {
          issuer: TX,
          configuration_endpoint: `${TX}/streams`,
          status_endpoint: `${TX}/status`,
          verification_endpoint: `${TX}/verify`,
        },
      });
    const route = routes[`${request.method} ${url.pathname}${url.search ? '?' : ''}`];
    if (!route) return Promise.reject(new Error(`unexpected ${request.method} ${request.url}`));
    const body = route(request);
    return body instanceof Error ? Promise.reject(body) : Promise.resolve({ status: 200, body });
  };
  return { requests, fetchJson };
}

const status = { 'GET /status?': () => ({ status: 'enabled' }) };

describe('SsfStreamManagement.ensure', () => {
  it('creates a poll stream with every event whose action is not none, when the transmitter holds none', async () => {
    const tx = transmitter({
      'GET /streams': () => [],
      'POST /streams': () => stream('new'),
      ...status,
    });
    const streams = new InMemorySsfStreamRepository();
    const states = new States();
    const m = new SsfStreamManagement(config(), streams, states, () => new Date(), tx.fetchJson);
    const view = await m.ensure('tx');
    expect(view.stream?.streamId).toBe('new');
    const created = tx.requests.find((r) => r.method === 'POST')?.body as {
      delivery: unknown;
      events_requested: string[];
    };
    expect(created.delivery).toEqual({ method: 'urn:ietf:rfc:8936' });
    expect(created.events_requested).toHaveLength(14);
    expect(created.events_requested.some((e) => e.endsWith('/risk-level-change'))).toBe(false);
    expect((await streams.get('tx'))?.streamId).toBe('new');
    expect(states.statuses).toEqual([['enabled', null]]);
  });

  it('adopts a stream the transmitter already holds with the same delivery method', async () => {
    const tx = transmitter({
      'GET /streams': () => [stream('push-one', 'urn:ietf:rfc:8935'), stream('held')],
      ...status,
    });
    const m = new SsfStreamManagement(
      config(),
      new InMemorySsfStreamRepository(),
      new States(),
      () => new Date(),
      tx.fetchJson,
    );
    expect((await m.ensure('tx')).stream?.streamId).toBe('held');
    expect(tx.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('adopts the stream another replica created when the transmitter answers 409, and creates once when asked twice at once', async () => {
    let lists = 0;
    const tx = transmitter({
      'GET /streams': () => (lists++ === 0 ? [] : [stream('theirs')]),
      'POST /streams': () => new TransmitterError('status', 'POST: HTTP 409', 409),
      ...status,
    });
    const m = new SsfStreamManagement(
      config(),
      new InMemorySsfStreamRepository(),
      new States(),
      () => new Date(),
      tx.fetchJson,
    );
    expect((await m.ensure('tx')).stream?.streamId).toBe('theirs');
    const once = transmitter({
      'GET /streams': () => [],
      'POST /streams': () => stream('mine'),
      'GET /streams?': () => stream('mine'),
      ...status,
    });
    const n = new SsfStreamManagement(
      config(),
      new InMemorySsfStreamRepository(),
      new States(),
      () => new Date(),
      once.fetchJson,
    );
    const [a, b] = await Promise.all([n.ensure('tx'), n.ensure('tx')]);
    expect([a.stream?.streamId, b.stream?.streamId]).toEqual(['mine', 'mine']);
    expect(once.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('reads the recorded stream first, without listing or creating', async () => {
    const streams = new InMemorySsfStreamRepository();
    await streams.saveStream(
      'tx',
      { streamId: 'rec', deliveryMethod: 'urn:ietf:rfc:8936', eventsDelivered: [] },
      new Date(),
    );
    const found = transmitter({ 'GET /streams?': () => stream('rec'), ...status });
    const m = new SsfStreamManagement(
      config(),
      streams,
      new States(),
      () => new Date(),
      found.fetchJson,
    );
    expect((await m.ensure('tx')).stream?.streamId).toBe('rec');
    expect(found.requests.filter((r) => r.url.endsWith('/streams'))).toHaveLength(0);
  });

  it('needs delivery.push.publicUrl to create a push stream', async () => {
    const tx = transmitter({ 'GET /streams': () => [], ...status });
    const push = config({ delivery: { push: { tokenSha256: 'ab'.repeat(32) } } });
    const m = new SsfStreamManagement(
      push,
      new InMemorySsfStreamRepository(),
      new States(),
      () => new Date(),
      tx.fetchJson,
    );
    await expect(m.ensure('tx')).rejects.toMatchObject({
      code: 'INVALID',
      field: 'delivery.push.publicUrl',
    });
  });

  it('answers a failing transmitter as UPSTREAM naming the call, never the credential', async () => {
    const tx = transmitter({
      'GET /streams': () => new TransmitterError('status', `GET ${TX}/streams: HTTP 503`, 503),
    });
    const withCredential = config(
      { stream: { authorization: { env: 'SSF_AUTH' } } },
      { SSF_AUTH: 'Bearer secret-credential' },
    );
    const m = new SsfStreamManagement(
      withCredential,
      new InMemorySsfStreamRepository(),
      new States(),
      () => new Date(),
      tx.fetchJson,
    );
    const error = await m.ensure('tx').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM', message: `GET ${TX}/streams: HTTP 503` });
    // The request carried the credential; the error never names it.
    expect(tx.requests.at(-1)?.authorization).toBe('Bearer secret-credential');
    expect(JSON.stringify(error) + String(error)).not.toContain('secret-credential');
  });
});

describe('SsfStreamManagement verification and status', () => {
  it('records the state it asks for before asking, and the status the transmitter answers', async () => {
    const streams = new InMemorySsfStreamRepository();
    await streams.saveStream(
      'tx',
      { streamId: 's', deliveryMethod: 'urn:ietf:rfc:8936', eventsDelivered: [] },
      new Date(),
    );
    const states = new States();
    const tx = transmitter({
      'POST /verify': (r) => {
        expect(r.body).toEqual({ stream_id: 's', state: 'st' });
        return undefined;
      },
      'POST /status': () => ({ status: 'paused', reason: 'ops' }),
    });
    const m = new SsfStreamManagement(config(), streams, states, () => new Date(), tx.fetchJson);
    expect(await m.requestVerification('tx', 'st')).toEqual({ state: 'st' });
    expect((await streams.get('tx'))?.verificationState).toBe('st');
    await m.setStatus('tx', 'paused', 'ops');
    expect(states.statuses).toEqual([['paused', 'ops']]);
  });
});
