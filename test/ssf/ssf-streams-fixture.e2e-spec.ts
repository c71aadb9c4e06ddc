import { createServer, type Server } from 'node:http';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { freePort } from '../support/ports';
import { makeKey } from '../support/token-factory';
import { EVENT_TYPES, POLL, PUSH, SsfTransmitter } from '../support/ssf-transmitter';

/** The transmitter fixture itself: what the receiver's suites rely on it for. */
describe('SSF transmitter fixture', () => {
  let tx: SsfTransmitter;
  const auth = () => ({ authorization: `Bearer ${tx.bearer}`, 'content-type': 'application/json' });
  const call = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, headers: { ...auth(), ...init.headers } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const poll = (body: unknown) =>
    call(tx.endpoints.poll(tx.stream().stream_id), { method: 'POST', body: JSON.stringify(body) });

  beforeEach(async () => {
    tx = await SsfTransmitter.start({ longPollMs: 100, redeliverAfterMs: 60_000 });
  });
  afterEach(() => tx.stop());

  it('serves SSF discovery and a JWKS that verifies its SETs', async () => {
    const doc = (await (await fetch(tx.endpoints.discovery)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: tx.issuer,
      jwks_uri: tx.endpoints.jwks,
      configuration_endpoint: tx.endpoints.configuration,
      status_endpoint: tx.endpoints.status,
      verification_endpoint: tx.endpoints.verification,
      delivery_methods_supported: [PUSH, POLL],
    });
    const jwks = (await (await fetch(tx.endpoints.jwks)).json()) as any;
    const { set, jti } = await tx.mint({
      type: 'account-disabled',
      subject: { format: 'iss_sub', iss: 'https://idp.example', sub: 'alice' },
      payload: { reason: 'hijacking' },
    });
    expect(decodeProtectedHeader(set).typ).toBe('secevent+jwt');
    const { payload } = await jwtVerify(set, createLocalJWKSet(jwks), {
      issuer: tx.issuer,
      audience: tx.audience,
      typ: 'secevent+jwt',
    });
    expect(payload.jti).toBe(jti);
    expect(Object.keys(payload.events as object)).toEqual([EVENT_TYPES['account-disabled']]);
    expect(payload.sub_id).toEqual({ format: 'iss_sub', iss: 'https://idp.example', sub: 'alice' });
  });

  it('signs forged SETs on request: another key, no typ, the subject inside the event', async () => {
    const other = await makeKey('ES256', 'forger');
    const { set } = await tx.mint(
      { type: 'session-revoked', subject: { format: 'opaque', id: 's' } },
      { key: other, header: { typ: undefined }, subjectIn: 'event' },
    );
    const jwks = createLocalJWKSet(tx.jwks);
    await expect(jwtVerify(set, jwks)).rejects.toThrow();
    expect(decodeProtectedHeader(set).typ).toBeUndefined();
    const payload = JSON.parse(Buffer.from(set.split('.')[1] as string, 'base64url').toString());
    expect(payload.sub_id).toBeUndefined();
    expect(payload.events[EVENT_TYPES['session-revoked']].subject).toEqual({
      format: 'opaque',
      id: 's',
    });
  });

  it('refuses a receiver without its bearer token', async () => {
    const res = await fetch(tx.endpoints.configuration, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(401);
  });

  it('creates, reads, updates and deletes a stream (SSF 1.0 §8.1.1)', async () => {
    const created = await call(tx.endpoints.configuration, {
      method: 'POST',
      body: JSON.stringify({
        delivery: { method: POLL },
        events_requested: [EVENT_TYPES['account-disabled'], 'urn:example:unknown'],
      }),
    });
    expect(created.status).toBe(201);
    const id = created.body.stream_id as string;
    expect(created.body).toMatchObject({
      iss: tx.issuer,
      aud: tx.audience,
      delivery: { method: POLL, endpoint_url: tx.endpoints.poll(id) },
      events_delivered: [EVENT_TYPES['account-disabled']],
    });
    expect(
      (await call(tx.endpoints.configuration, { method: 'POST', body: '{"delivery":{}}' })).status,
    ).toBe(409);
    expect((await call(`${tx.endpoints.configuration}?stream_id=${id}`)).body.stream_id).toBe(id);
    expect((await call(tx.endpoints.configuration)).body).toHaveLength(1);
    const patched = await call(tx.endpoints.configuration, {
      method: 'PATCH',
      body: JSON.stringify({ stream_id: id, description: 'patched' }),
    });
    expect(patched.body.description).toBe('patched');
    expect(
      (await call(`${tx.endpoints.configuration}?stream_id=${id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await call(`${tx.endpoints.configuration}?stream_id=${id}`)).status).toBe(404);
  });

  it('updates status with a stream-updated SET, and verification emits its state', async () => {
    const { stream_id } = tx.createStream();
    expect((await call(`${tx.endpoints.status}?stream_id=${stream_id}`)).body.status).toBe(
      'enabled',
    );
    const paused = await call(tx.endpoints.status, {
      method: 'POST',
      body: JSON.stringify({ stream_id, status: 'paused', reason: 'maintenance' }),
    });
    expect(paused.body).toEqual({ stream_id, status: 'paused', reason: 'maintenance' });
    // A paused stream holds its SETs back, but not its own stream-updated event.
    await tx.emit({ type: 'account-purged', subject: { format: 'opaque', id: 'held' } });
    const whilePaused: string[] = Object.values(
      (await poll({ returnImmediately: true, maxEvents: 1 })).body.sets,
    );
    expect(whilePaused).toHaveLength(1);
    expect(JSON.stringify(decodeJwt(whilePaused[0] as string).events)).toContain('stream-updated');
    await call(tx.endpoints.status, {
      method: 'POST',
      body: JSON.stringify({ stream_id, status: 'enabled' }),
    });
    expect(
      (
        await call(tx.endpoints.verification, {
          method: 'POST',
          body: JSON.stringify({ stream_id, state: 'abc' }),
        })
      ).status,
    ).toBe(204);
    const sets: string[] = Object.values((await poll({ returnImmediately: true })).body.sets);
    const events = sets.map(
      (s) => JSON.parse(Buffer.from(s.split('.')[1] as string, 'base64url').toString()).events,
    );
    expect(events).toEqual([
      // Held while paused, delivered once enabled.
      { [EVENT_TYPES['account-purged']]: expect.any(Object) },
      { [EVENT_TYPES['stream-updated']]: expect.objectContaining({ status: 'enabled' }) },
      { [EVENT_TYPES.verification]: expect.objectContaining({ state: 'abc' }) },
    ]);
    expect(whilePaused).toHaveLength(1);
  });

  it('polls per RFC 8936: maxEvents, moreAvailable, ack and setErrs recorded', async () => {
    tx.createStream();
    const jtis: string[] = [];
    for (let i = 0; i < 5; i++)
      jtis.push(
        await tx.emit({ type: 'credential-change', subject: { format: 'opaque', id: `u${i}` } }),
      );
    const first = await poll({ maxEvents: 3, returnImmediately: true });
    expect(Object.keys(first.body.sets)).toEqual(jtis.slice(0, 3));
    expect(first.body.moreAvailable).toBe(true);
    const second = await poll({
      maxEvents: 3,
      returnImmediately: true,
      ack: jtis.slice(0, 2),
      setErrs: { [jtis[2] as string]: { err: 'invalid_key', description: 'kid' } },
    });
    expect(Object.keys(second.body.sets)).toEqual(jtis.slice(3));
    expect(second.body.moreAvailable).toBe(false);
    expect(tx.acked).toEqual(jtis.slice(0, 2));
    expect(tx.setErrs.get(jtis[2] as string)).toEqual({ err: 'invalid_key', description: 'kid' });
    await poll({ maxEvents: 0, returnImmediately: true, ack: jtis.slice(3) });
    expect(tx.pending()).toBe(0);
    expect(tx.polls).toHaveLength(3);
  });

  it('holds a long poll until a SET arrives, and answers empty when none does', async () => {
    tx.createStream();
    const started = Date.now();
    expect((await poll({ returnImmediately: false })).body).toEqual({
      sets: {},
      moreAvailable: false,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const waiting = poll({});
    setTimeout(
      () => void tx.emit({ type: 'account-purged', subject: { format: 'opaque', id: 'x' } }),
      20,
    );
    expect(Object.keys((await waiting).body.sets)).toHaveLength(1);
  });

  it('fails with a status, hangs, and recovers', async () => {
    tx.createStream();
    tx.fail();
    expect((await poll({ returnImmediately: true })).status).toBe(503);
    tx.recover();
    tx.hang(new URL(tx.endpoints.poll(tx.stream().stream_id)).pathname);
    const hung = await fetch(tx.endpoints.poll(tx.stream().stream_id), {
      method: 'POST',
      headers: auth(),
      body: '{}',
      signal: AbortSignal.timeout(200),
    }).catch((e: Error) => e.name);
    expect(hung).toBe('TimeoutError');
    tx.recover();
    expect((await poll({ returnImmediately: true })).status).toBe(200);
  });

  it('pushes a SET with its bearer token (RFC 8935)', async () => {
    const received: { auth?: string; type?: string; body: string }[] = [];
    const port = await freePort();
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, type: req.headers['content-type'], body });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const { set } = await tx.mint({
        type: 'account-enabled',
        subject: { format: 'opaque', id: 'a' },
      });
      const answer = await tx.push(`http://127.0.0.1:${port}/ssf/events`, set, 'Bearer push-token');
      expect(answer.status).toBe(202);
      expect(received).toEqual([
        { auth: 'Bearer push-token', type: 'application/secevent+jwt', body: set },
      ]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
