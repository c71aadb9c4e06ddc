import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { ssfConfigurationUrl as discoveryUrl } from './ssf-discovery';
import { discoverTransmitter, IssuerMismatchError } from './ssf-discovery';
import { pollTransmitter } from './ssf-poll-client';
import { SsfStreamClient } from './ssf-stream-client';
import {
  TransmitterError,
  type TransmitterFetch,
  type TransmitterRequest,
  transmitterFetch,
} from './transmitter-http';

const ISSUER = 'https://tx.example';

/** A fetch that answers `body` and records the requests. */
function answering(body: unknown, seen: TransmitterRequest[] = []): TransmitterFetch {
  return (request) => {
    seen.push(request);
    return Promise.resolve({ status: 200, body });
  };
}

describe('SSF discovery', () => {
  it('puts the well-known suffix between the host and the issuer path (SSF 1.0 §7.2)', () => {
    expect(discoveryUrl('https://tx.example')).toBe(
      'https://tx.example/.well-known/ssf-configuration',
    );
    expect(discoveryUrl('https://tx.example/tenant/a/')).toBe(
      'https://tx.example/.well-known/ssf-configuration/tenant/a',
    );
  });

  it('reads the endpoints of a document whose issuer is the configured one', async () => {
    const meta = await discoverTransmitter(
      ISSUER,
      1_000,
      answering({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/jwks`,
        configuration_endpoint: `${ISSUER}/streams`,
        status_endpoint: `${ISSUER}/status`,
        delivery_methods_supported: ['urn:ietf:rfc:8936', 7],
        unknown_member: { nested: true },
      }),
    );
    expect(meta).toEqual({
      issuer: ISSUER,
      jwksUri: `${ISSUER}/jwks`,
      configurationEndpoint: `${ISSUER}/streams`,
      statusEndpoint: `${ISSUER}/status`,
      verificationEndpoint: undefined,
      deliveryMethodsSupported: ['urn:ietf:rfc:8936'],
    });
  });

  it.each([
    ['another issuer', { issuer: 'https://evil.example' }],
    ['a trailing slash', { issuer: `${ISSUER}/` }],
    ['no issuer', {}],
  ])('refuses a document with %s', async (_, doc) => {
    await expect(discoverTransmitter(ISSUER, 1_000, answering(doc))).rejects.toBeInstanceOf(
      IssuerMismatchError,
    );
  });

  it('never reads an issuer from the prototype', async () => {
    const doc = Object.create({ issuer: ISSUER }) as object;
    await expect(discoverTransmitter(ISSUER, 1_000, answering(doc))).rejects.toBeInstanceOf(
      IssuerMismatchError,
    );
  });

  it.each(['javascript:alert(1)', 'ftp://tx.example/x', 'https://user:pw@tx.example/', 42])(
    'refuses an endpoint %p that is not an http(s) URL',
    async (endpoint) => {
      await expect(
        discoverTransmitter(
          ISSUER,
          1_000,
          answering({ issuer: ISSUER, configuration_endpoint: endpoint }),
        ),
      ).rejects.toMatchObject({ failure: 'malformed' });
    },
  );
});

describe('SsfStreamClient', () => {
  const endpoints = {
    configurationEndpoint: `${ISSUER}/streams`,
    statusEndpoint: `${ISSUER}/status`,
    verificationEndpoint: `${ISSUER}/verify`,
    authorization: 'Bearer secret',
    timeoutMs: 1_000,
  };
  const stream = {
    stream_id: 's1',
    delivery: { method: 'urn:ietf:rfc:8936', endpoint_url: `${ISSUER}/poll/s1` },
    events_requested: ['a', 'b'],
    events_delivered: ['a'],
  };

  it('creates a stream with the delivery and events asked for, with the credential', async () => {
    const seen: TransmitterRequest[] = [];
    const client = new SsfStreamClient(endpoints, answering(stream, seen));
    const created = await client.create({
      deliveryMethod: 'urn:ietf:rfc:8936',
      eventsRequested: ['a', 'b'],
    });
    expect(created).toMatchObject({ streamId: 's1', endpointUrl: `${ISSUER}/poll/s1` });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: endpoints.configurationEndpoint,
      authorization: 'Bearer secret',
      body: { delivery: { method: 'urn:ietf:rfc:8936' }, events_requested: ['a', 'b'] },
    });
  });

  it('reads one stream by id, and a 404 as no stream', async () => {
    const seen: TransmitterRequest[] = [];
    expect(
      (await new SsfStreamClient(endpoints, answering(stream, seen)).read('s 1'))?.streamId,
    ).toBe('s1');
    expect(seen[0]?.url).toBe(`${ISSUER}/streams?stream_id=s+1`);
    const gone = new SsfStreamClient(endpoints, () =>
      Promise.reject(new TransmitterError('status', 'x', 404)),
    );
    expect(await gone.read('s1')).toBeUndefined();
  });

  it.each([
    ['a stream id that is not a string', { ...stream, stream_id: 5 }],
    ['an empty stream id', { ...stream, stream_id: '' }],
    ['no delivery method', { ...stream, delivery: {} }],
    [
      'a poll URL that is not http(s)',
      { ...stream, delivery: { method: 'm', endpoint_url: 'file:///etc/passwd' } },
    ],
    ['events that are not a list', { ...stream, events_delivered: 'a' }],
    ['not an object', ['s1']],
  ])('refuses %s', async (_, body) => {
    await expect(new SsfStreamClient(endpoints, answering(body)).read('s1')).rejects.toMatchObject({
      failure: 'malformed',
    });
  });

  it('reads and updates a status; an unknown status is malformed', async () => {
    const seen: TransmitterRequest[] = [];
    const client = new SsfStreamClient(
      endpoints,
      answering({ status: 'paused', reason: 'r' }, seen),
    );
    expect(await client.readStatus('s1')).toEqual({ status: 'paused', reason: 'r' });
    await client.updateStatus('s1', 'paused', 'r');
    expect(seen[1]?.body).toEqual({ stream_id: 's1', status: 'paused', reason: 'r' });
    await expect(
      new SsfStreamClient(endpoints, answering({ status: 'on' })).readStatus('s1'),
    ).rejects.toMatchObject({ failure: 'malformed' });
    await expect(
      new SsfStreamClient(endpoints, answering(Object.create({ status: 'enabled' }))).readStatus(
        's1',
      ),
    ).rejects.toMatchObject({ failure: 'malformed' });
  });

  it('says which endpoint is missing', async () => {
    const client = new SsfStreamClient({ timeoutMs: 1_000 }, answering({}));
    await expect(client.requestVerification('s1', 'x')).rejects.toThrow(/verification_endpoint/);
    await expect(client.list()).rejects.toThrow(/configuration_endpoint/);
  });
});

describe('pollTransmitter (RFC 8936)', () => {
  const target = { endpoint: `${ISSUER}/poll/s1`, timeoutMs: 1_000 };
  const request = { maxEvents: 2, returnImmediately: true, ack: [], setErrs: new Map() };

  it('sends acks and setErrs and reads the SETs in order', async () => {
    const seen: TransmitterRequest[] = [];
    const answer = await pollTransmitter(
      target,
      {
        ...request,
        ack: ['j1'],
        setErrs: new Map([['j2', { err: 'invalid_key', description: 'kid' }]]),
      },
      answering({ sets: { j3: 'a.b.c', j4: 'd.e.f' }, moreAvailable: true }, seen),
    );
    expect([...answer.sets]).toEqual([
      ['j3', 'a.b.c'],
      ['j4', 'd.e.f'],
    ]);
    expect(answer.moreAvailable).toBe(true);
    expect(seen[0]?.body).toEqual({
      maxEvents: 2,
      returnImmediately: true,
      ack: ['j1'],
      setErrs: { j2: { err: 'invalid_key', description: 'kid' } },
    });
  });

  it.each([
    ['more SETs than asked for', { sets: { a: 'x', b: 'y', c: 'z' } }],
    ['a SET that is not a string', { sets: { a: 1 } }],
    ['no sets', { moreAvailable: false }],
    ['sets as a list', { sets: ['a.b.c'] }],
    ['an overlong jti', { sets: { ['j'.repeat(257)]: 'x' } }],
  ])('refuses an answer with %s', async (_, body) => {
    await expect(pollTransmitter(target, request, answering(body))).rejects.toMatchObject({
      failure: 'malformed',
    });
  });

  it('treats anything but moreAvailable: true as no more', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (more) => {
        const answer = await pollTransmitter(
          target,
          request,
          answering({ sets: {}, moreAvailable: more }),
        );
        expect(answer.moreAvailable).toBe(more === true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('transmitterFetch over HTTP', () => {
  let server: Server;
  let base: string;
  let answer: (res: import('node:http').ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((_req, res) => answer(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const get = () => transmitterFetch({ method: 'GET', url: base, timeoutMs: 300 });

  it('parses JSON into objects without a prototype, __proto__ kept as data', async () => {
    answer = (res) => res.end('{"__proto__":{"polluted":1},"a":{"b":1}}');
    const { body } = await get();
    expect(Object.getPrototypeOf(body)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an answer over 1 MiB, duplicate members, and an error status', async () => {
    answer = (res) => res.end(`"${'x'.repeat(1_100_000)}"`);
    await expect(get()).rejects.toMatchObject({ failure: 'malformed' });
    answer = (res) => res.end('{"issuer":"a","issuer":"b"}');
    await expect(get()).rejects.toMatchObject({ failure: 'malformed' });
    answer = (res) => res.writeHead(503).end();
    await expect(get()).rejects.toMatchObject({ failure: 'status', status: 503 });
  });

  it('times out a hung transmitter and never follows a redirect', async () => {
    answer = () => undefined;
    await expect(get()).rejects.toMatchObject({ failure: 'unreachable' });
    answer = (res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end();
    await expect(get()).rejects.toMatchObject({ failure: 'unreachable' });
  });
});
