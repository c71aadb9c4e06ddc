import { createTestDatabase } from './support/database';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';
import { hashSubject } from '@resolver/observability';
import { ExtAuthzClient } from './support/ext-authz-client';

const AUD = 'api://logging';
const issuer = 'https://logging.idp.test';

/** Captures the structured log lines of one app. */
class Capture {
  readonly chunks: string[] = [];
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  get text(): string {
    return this.chunks.join('');
  }
  lines(): Record<string, any>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  }
}

/**
 * One JSON line per failed resolution with request id, reason, issuer, latency and transport;
 * the caller's x-request-id is used and echoed; subjects are hashed unless configured; no token
 * ever appears in the output, whatever the failure.
 */
describe('structured logs', () => {
  let databaseUrl: string;
  let idp: JwksServer;
  let keys: TokenFactory;
  let jwksUri: string;
  const apps: ResolverHarness[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  const start = async (logging: Record<string, unknown>) => {
    const capture = new Capture();
    const app = await ResolverHarness.start({
      databaseUrl,
      config: { logging: { level: 'info', ...logging } },
      logDestination: capture,
      issuers: [{ issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] }],
    });
    apps.push(app);
    return { app, capture };
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('logging');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('logging');
    jwksUri = idp.publishJwks('logging', keys.publicJwks());
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await idp?.stop();
  });

  it('logs every failure once, with its fields, and never a token', async () => {
    const { app, capture } = await start({});
    const unknownUser = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'Nobody.Here' }));
    const expired = await keys.sign(claimsFor(issuer, AUD, now() - 7200, { sub: 'old' }));
    const good = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'x' }));
    const [head, payload] = good.split('.');
    const forged = `${head}.${payload}.${'A'.repeat(342)}`;
    const tokens = [unknownUser, expired, forged];

    const first = await app.http('/v1/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${unknownUser}`, 'x-request-id': 'req-abc-1' },
    });
    expect(first.body.reason).toBe('USER_NOT_FOUND');
    expect(first.headers.get('x-request-id')).toBe('req-abc-1');
    // A token sent as the request id is not echoed, not used, not logged.
    const sneaky = await app.http('/v1/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${expired}`, 'x-request-id': expired },
    });
    expect(sneaky.body.reason).toBe('TOKEN_EXPIRED');
    const generated = sneaky.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect((await app.resolveHttp({ body: { token: forged } })).body.reason).toBe(
      'SIGNATURE_INVALID',
    );
    const grpc = await app.grpc.resolve({
      token: unknownUser,
      metadata: { 'x-request-id': 'grpc-req-7' },
    });
    expect(grpc).toMatchObject({ ok: false, reason: 'USER_NOT_FOUND' });
    // Health and metrics echo the id too (every HTTP response does).
    expect((await app.http('/health/live')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const failures = capture.lines().filter((l) => l.event === 'resolution_failed');
    expect(failures.map((l) => [l.requestId, l.transport, l.reason])).toEqual([
      ['req-abc-1', 'http', 'USER_NOT_FOUND'],
      [generated, 'http', 'TOKEN_EXPIRED'],
      [expect.stringMatching(/^[0-9a-f-]{36}$/), 'http', 'SIGNATURE_INVALID'],
      ['grpc-req-7', 'grpc', 'USER_NOT_FOUND'],
    ]);
    for (const line of failures) {
      expect(line).toMatchObject({ level: 'warn', issuer, service: 'subject-resolver' });
      expect(typeof line.latencyMs).toBe('number');
      expect(typeof line.time).toBe('string');
    }
    expect(failures[0]?.subject).toBe(hashSubject('Nobody.Here'));
    expect(capture.text).not.toContain('Nobody.Here');
    for (const token of tokens) {
      expect(capture.text).not.toContain(token);
      expect(capture.text).not.toContain(token.split('.')[2]);
    }
  });

  it('logs subjects in clear only when logging.logSubjects is on, and honours the level', async () => {
    const clear = await start({ logSubjects: true });
    const token = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'visible-subject' }));
    expect((await clear.app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
    expect(clear.capture.lines().find((l) => l.event === 'resolution_failed')?.subject).toBe(
      'visible-subject',
    );
    expect(clear.capture.text).not.toContain(token);

    const quiet = await start({ level: 'error' });
    expect((await quiet.app.resolveHttp({ token })).body.reason).toBe('USER_NOT_FOUND');
    expect(quiet.capture.lines().filter((l) => l.event === 'resolution_failed')).toEqual([]);
  });

  it('logAdminChange writes one line with a hashed subject', async () => {
    const { app, capture } = await start({});
    app.resolver.logger.logAdminChange({
      requestId: 'admin-1',
      actor: 'ops@example.com',
      action: 'user.disable',
      userId: '00000000-0000-4000-8000-000000000001',
      issuer,
      subject: 'someone',
      detail: { status: 'disabled' },
    });
    const [line] = capture.lines().filter((l) => l.event === 'admin_change');
    expect(line).toMatchObject({
      level: 'info',
      requestId: 'admin-1',
      actor: 'ops@example.com',
      action: 'user.disable',
      subject: hashSubject('someone'),
      detail: { status: 'disabled' },
    });
  });

  it('tracing off: the line carries the caller’s trace id from any transport, none from a bad one', async () => {
    const { app, capture } = await start({});
    const trace = (n: number) => `${String(n).repeat(32).slice(0, 32)}`;
    const parent = (n: number) => `00-${trace(n)}-00f067aa0ba902b7-01`;
    const token = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'Nobody.Traced' }));
    await app.http('/v1/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, traceparent: parent(1), 'x-request-id': 't-1' },
    });
    await app.http('/v1/authz', {
      headers: { authorization: `Bearer ${token}`, traceparent: parent(2), 'x-request-id': 't-2' },
    });
    await app.grpc.resolve({
      authorization: `Bearer ${token}`,
      metadata: { traceparent: parent(3), 'x-request-id': 't-3' },
    });
    const extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
    try {
      // Envoy's metadata first; the checked request's headers when the call carries none.
      await extAuthz.check(
        { authorization: `Bearer ${token}`, traceparent: parent(4) },
        '/a',
        {},
        {
          traceparent: parent(5),
        },
      );
      await extAuthz.check({ authorization: `Bearer ${token}`, traceparent: parent(6) });
    } finally {
      extAuthz.close();
    }
    // Malformed or hostile: no trace id, the line still written.
    await app.http('/v1/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, traceparent: token, 'x-request-id': 't-7' },
    });
    const lines = capture.lines().filter((l) => l.event === 'resolution_failed');
    expect(lines.map((l) => l.traceId)).toEqual([
      trace(1),
      trace(2),
      trace(3),
      trace(5),
      trace(6),
      undefined,
    ]);
    expect(lines.map((l) => l.requestId).slice(0, 3)).toEqual(['t-1', 't-2', 't-3']);
    expect(capture.text).not.toContain(token.split('.')[1]);
  });

  it('exposes the DB pool gauges on /metrics', async () => {
    const { app } = await start({});
    const metrics = (await app.http('/metrics')).body as string;
    for (const state of ['in_use', 'idle', 'waiting'])
      expect(metrics).toMatch(
        new RegExp(`^resolver_db_pool_connections\\{state="${state}"\\} \\d+$`, 'm'),
      );
  });
});
