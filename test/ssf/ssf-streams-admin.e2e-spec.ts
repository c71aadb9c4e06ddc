import { eventually } from '../support/eventually';
import { perSuite } from '../support/per-suite';
import type { ResolverHarness } from '../support/resolver-harness';
import { ADMIN_TOKEN, SsfPollWorld } from './ssf-poll-world';

/**
 * Stream management (SSF 1.0 §8) through /admin/v1/ssf/streams against the transmitter fixture:
 * create or read, status both ways (the operator asks; the transmitter says so in a
 * stream-updated event), verification; and what hostile callers get from these routes.
 */
describe('SSF stream management (admin API)', () => {
  const world = perSuite(new SsfPollWorld(), 'ssf_streams_admin');
  let app: ResolverHarness;
  beforeAll(async () => {
    app = await world.startResolver();
  });
  const admin = (method: string, path: string, body?: unknown) =>
    world.admin(app, method, path, body);

  it('creates or reads the stream, and reads it back with its state', async () => {
    const ensured = await admin('POST', '/tx');
    expect(ensured.status).toBe(200);
    expect(world.tx.streams.size).toBe(1);
    const id = world.tx.stream().stream_id;
    expect(ensured.body.stream).toMatchObject({
      streamId: id,
      deliveryMethod: 'urn:ietf:rfc:8936',
      endpointUrl: world.tx.endpoints.poll(id),
    });
    // Every event whose action is not `none` was asked for.
    expect(world.tx.stream().events_requested).toHaveLength(15);
    // Asked again: the same stream, none created.
    expect((await admin('POST', '/tx')).body.stream.streamId).toBe(id);
    expect(world.tx.streams.size).toBe(1);
    const read = await admin('GET', '/tx');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      transmitter: 'tx',
      record: { streamId: id },
      state: { streamStatus: 'enabled' },
    });
    const list = await admin('GET', '');
    expect(list.body.streams).toEqual([expect.objectContaining({ transmitter: 'tx' })]);
  });

  it('updates the status at the transmitter and records it', async () => {
    const paused = await admin('POST', '/tx/status', { status: 'paused', reason: 'maintenance' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toMatchObject({
      streamStatus: 'paused',
      streamStatusReason: 'maintenance',
    });
    expect(world.tx.stream().status).toBe('paused');
    const enabled = await admin('POST', '/tx/status', { status: 'enabled' });
    expect(enabled.body.state.streamStatus).toBe('enabled');
    expect(world.tx.stream().status).toBe('enabled');
  });

  it("reflects the transmitter's own stream-updated event in the stream's status", async () => {
    const stream = world.tx.stream().stream_id;
    // A second later than the operator's last change, so the event is the newer one.
    await new Promise((r) => setTimeout(r, 1_100));
    world.tx.setStatus(stream, 'disabled', 'idp maintenance');
    await eventually(
      'the status is disabled',
      async () => (await admin('GET', '/tx')).body.state?.streamStatus === 'disabled',
      5_000,
    );
    expect((await admin('GET', '/tx')).body.state.streamStatusReason).toBe('idp maintenance');
    world.tx.setStatus(stream, 'enabled');
  });

  it('requests verification and records the verification event that answers it', async () => {
    const asked = await admin('POST', '/tx/verify', { state: 'check-42' });
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({ requested: true, state: 'check-42' });
    await eventually(
      'the verification event is recorded',
      async () => (await admin('GET', '/tx')).body.state?.verificationState === 'check-42',
      5_000,
    );
    const view = (await admin('GET', '/tx')).body;
    expect(view.record.verificationState).toBe('check-42');
    expect(view.state.verifiedAt).toEqual(expect.any(String));
    // Without a state, a random one is sent and returned.
    const random = await admin('POST', '/tx/verify', {});
    expect(random.body.state).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('answers 502 naming the failure when the transmitter is down, and stays up', async () => {
    world.tx.fail('/ssf/status', 503);
    const answer = await admin('POST', '/tx/status', { status: 'paused' });
    world.tx.recover();
    expect(answer.status).toBe(502);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body.detail).toMatch(/HTTP 503/);
    expect(JSON.stringify(answer.body)).not.toContain(world.tx.bearer);
  });

  it('documents each route and the answers it gives in /openapi.json', async () => {
    const doc = (await app.http('/openapi.json')).body;
    const answers: [string, string, number[]][] = [
      ['/admin/v1/ssf/streams', 'get', [200, 401]],
      ['/admin/v1/ssf/streams/{name}', 'get', [200, 400, 401, 404, 502]],
      ['/admin/v1/ssf/streams/{name}', 'post', [200, 400, 401, 404, 502]],
      ['/admin/v1/ssf/streams/{name}/status', 'post', [200, 400, 401, 404, 502]],
      ['/admin/v1/ssf/streams/{name}/verify', 'post', [202, 400, 401, 404, 502]],
      ['/admin/v1/ssf/streams/{name}/poll', 'post', [200, 401, 404, 409, 502]],
    ];
    for (const [path, method, statuses] of answers)
      for (const status of statuses)
        expect([
          path,
          method,
          status,
          doc.paths[path]?.[method]?.responses?.[status] !== undefined,
        ]).toEqual([path, method, status, true]);
    expect(
      doc.paths['/admin/v1/ssf/streams/{name}/status'].post.requestBody.content['application/json']
        .schema.properties.status.enum,
    ).toEqual(['enabled', 'paused', 'disabled']);
  });

  describe('hostile callers', () => {
    it.each([
      ['no credential', undefined],
      ['a wrong credential', 'Bearer wrong-token-0123456789abcdef'],
      ['another scheme', `Basic ${ADMIN_TOKEN}`],
    ])('refuses %s with 401 before reading the body', async (_, authorization) => {
      for (const [method, path] of [
        ['GET', ''],
        ['GET', '/tx'],
        ['POST', '/tx'],
        ['POST', '/tx/status'],
        ['POST', '/tx/verify'],
        ['POST', '/tx/poll'],
      ] as const) {
        const res = await app.http(`/admin/v1/ssf/streams${path}`, {
          method,
          headers: {
            ...(authorization ? { authorization } : {}),
            'content-type': 'application/json',
          },
          // Larger than the body limit: a 413 here would mean the body was read first.
          body: method === 'POST' ? `{"status":"${'x'.repeat(200_000)}"}` : undefined,
        });
        expect([method, path, res.status]).toEqual([method, path, 401]);
      }
      expect(world.tx.stream().status).toBe('enabled');
    });

    it.each([
      ['a number', { status: 1 }, 'status'],
      ['an unknown status', { status: 'on' }, 'status'],
      ['no status', {}, 'status'],
      ['a reason that is not a string', { status: 'paused', reason: 5 }, 'reason'],
      ['an empty reason', { status: 'paused', reason: '' }, 'reason'],
      ['an overlong reason', { status: 'paused', reason: 'r'.repeat(257) }, 'reason'],
      ['an unknown field', { status: 'paused', extra: true }, 'extra'],
      [
        'a __proto__ key',
        JSON.parse('{"status":"paused","__proto__":{"status":"x"}}'),
        // Refused by the JSON parser itself, before any field is read.
        undefined,
      ],
      ['a constructor key', { status: 'paused', constructor: { prototype: { a: 1 } } }, undefined],
      ['an array', [{ status: 'paused' }], undefined],
      ['null', null, undefined],
    ])(
      'refuses a status body with %s (400 naming the field), changing nothing',
      async (_, body, field) => {
        const res = await admin('POST', '/tx/status', body);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        if (field) expect(res.body.field).toBe(field);
        expect(world.tx.stream().status).toBe('enabled');
        expect(({} as Record<string, unknown>).status).toBeUndefined();
      },
    );

    it.each([
      ['a state with a space', { state: 'a b' }],
      ['a state that is a number', { state: 42 }],
      ['an overlong state', { state: 's'.repeat(129) }],
      ['a control character', { state: 'a\u0000b' }],
      ['an unknown field', { nonce: 'x' }],
    ])('refuses a verify body with %s', async (_, body) => {
      const res = await admin('POST', '/tx/verify', body);
      expect(res.status).toBe(400);
    });

    it('refuses a body that is not JSON, and one in another media type', async () => {
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const broken = await app.http('/admin/v1/ssf/streams/tx/status', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"status":',
      });
      expect(broken.status).toBe(400);
      const text = await app.http('/admin/v1/ssf/streams/tx/status', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'text/plain' },
        body: 'status=paused',
      });
      expect(text.status).toBeGreaterThanOrEqual(400);
      expect(text.status).toBeLessThan(500);
    });

    it.each([
      ['__proto__', 400],
      ['a'.repeat(65), 400],
      ['.hidden', 400],
      ['-x', 400],
      ['tx%00', 400],
      ['constructor', 404],
      ['toString', 404],
      ['unknown', 404],
    ])(
      'answers a transmitter name %p with %d and no call to the transmitter',
      async (name, status) => {
        const before = world.tx.requests('/ssf/streams');
        for (const [method, suffix] of [
          ['GET', ''],
          ['POST', ''],
          ['POST', '/verify'],
          ['POST', '/poll'],
        ] as const) {
          const res = await admin(method, `/${name}${suffix}`, method === 'POST' ? {} : undefined);
          expect([name, suffix, res.status]).toEqual([name, suffix, status]);
        }
        expect(world.tx.requests('/ssf/streams')).toBe(before);
      },
    );
  });
});
