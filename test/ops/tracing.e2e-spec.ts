import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { eventually } from '../support/eventually';
import { ExtAuthzClient } from '../support/ext-authz-client';
import { JwksServer } from '../support/jwks-server';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { ResolverGrpcClient } from '../support/grpc-client';
import { ResolverProcess } from '../support/resolver-process';
import { claimsFor, TokenFactory } from '../support/token-factory';

/**
 * Tracing end to end: the real app with tracing on, exporting over OTLP/HTTP to a receiver in
 * this process. Requests over HTTP (/v1/resolve, forward-auth, an operator route) and gRPC
 * (ResolveSubject, ext_authz Check) carry a W3C traceparent; the spans that arrive continue it,
 * one per pipeline step that ran, with the IdP and store calls as client spans, and no token
 * material anywhere in the exported bytes. The built service, configured by OTEL_* variables
 * only, exports protobuf and flushes on SIGTERM.
 */

const AUD = 'api://tracing';
const SERVER = 2;
const CLIENT = 3;

const newTrace = () => ({
  traceId: randomBytes(16).toString('hex'),
  spanId: randomBytes(8).toString('hex'),
});
const traceparent = (t: { traceId: string; spanId: string }) => `00-${t.traceId}-${t.spanId}-01`;

/** The JSON log lines of a resolver process. */
const logLines = (proc: ResolverProcess): Record<string, any>[] =>
  proc
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('tracing (OpenTelemetry over OTLP/HTTP)', () => {
  let databaseUrl: string;
  let idp: JwksServer;
  let keys: TokenFactory;
  let jwksUri: string;
  let issuer: string;
  let receiver: OtlpReceiver;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('tracing');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('tracing');
    jwksUri = idp.publishJwks('tracing', keys.publicJwks());
    issuer = `${idp.base}/tracing-issuer`;
    receiver = await new OtlpReceiver().start();
  });

  afterAll(async () => {
    await receiver?.stop();
    await idp?.stop();
  });

  it('continues the caller’s trace on every transport, a span per step, no token material', async () => {
    // The built service as production starts it (the exporter loads node:http by a dynamic
    // import, which Jest's module sandbox cannot run), configured by its config file.
    const app = await ResolverProcess.start(databaseUrl, {
      server: { shutdownDrainMs: 0 },
      logging: { level: 'info' },
      tracing: { enabled: true, endpoint: receiver.url, protocol: 'http/json' },
      issuers: [{ issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] }],
    });
    const http = (path: string, init: RequestInit) => fetch(`${app.url}${path}`, init);
    const grpcClient = new ResolverGrpcClient(app.grpcAddress);
    const db = sqlPool(databaseUrl);
    const cold = newTrace();
    const warm = newTrace();
    const refused = newTrace();
    const grpc = newTrace();
    const checkMeta = newTrace();
    const checkHeaders = newTrace();
    const metrics = newTrace();
    const secrets: string[] = [];
    const remember = (token: string) => {
      secrets.push(token, ...token.split('.').filter((p) => p.length >= 8));
      return token;
    };
    try {
      await seedUser(db, issuer, { subject: 'Alice.Secret.Sub', email: 'alice.secret@x.test' });
      const good = remember(
        await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'Alice.Secret.Sub', jti: 'jti-s1' })),
      );
      const expired = remember(
        await keys.sign(claimsFor(issuer, AUD, now() - 7200, { sub: 'Expired.Secret' })),
      );
      const stranger = remember(
        await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'Nobody.Secret' })),
      );
      const forged = remember(`${good.split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}`);
      secrets.push(
        'Alice.Secret.Sub',
        'alice.secret@x.test',
        'Expired.Secret',
        'Nobody.Secret',
        'jti-s1',
      );

      // HTTP /v1/resolve: cold (keys fetched, the store asked), then warm.
      const r1 = await http('/v1/resolve', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${good}`,
          traceparent: traceparent(cold),
          tracestate: 'gw=1',
        },
      });
      expect(r1.status).toBe(200);
      expect(
        (
          await http('/v1/resolve', {
            method: 'POST',
            headers: { authorization: `Bearer ${good}`, traceparent: traceparent(warm) },
          })
        ).status,
      ).toBe(200);
      // Forward-auth refusing an expired token.
      const fa = await http('/v1/authz/orders/42?q=1', {
        headers: {
          authorization: `Bearer ${expired}`,
          traceparent: traceparent(refused),
          'x-request-id': 'req-trace-1',
        },
      });
      expect(fa.status).toBe(401);
      // gRPC ResolveSubject, and ext_authz Check: trace context in the call's metadata, or (an
      // Envoy without tracing of its own) only in the checked request's headers.
      const g = await grpcClient.resolve({
        authorization: `Bearer ${stranger}`,
        metadata: { traceparent: traceparent(grpc) },
      });
      expect(g).toMatchObject({ ok: false, reason: 'USER_NOT_FOUND' });
      const extAuthz = new ExtAuthzClient(app.grpcAddress);
      try {
        const a = await extAuthz.check(
          { authorization: `Bearer ${good}` },
          '/orders/1',
          {},
          {
            traceparent: traceparent(checkMeta),
          },
        );
        expect(a.status.code).toBe(0);
        const b = await extAuthz.check({
          authorization: `Bearer ${forged}`,
          traceparent: traceparent(checkHeaders),
        });
        expect(b.status.code).toBe(16);
      } finally {
        extAuthz.close();
      }
      // Any route: an operator surface, and malformed trace contexts (ignored: a new trace).
      expect(
        (await http('/metrics', { headers: { traceparent: traceparent(metrics) } })).status,
      ).toBe(200);
      for (const bad of [
        'garbage',
        `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
        'x'.repeat(4000),
        good,
      ]) {
        const res = await http('/v1/resolve', {
          method: 'POST',
          headers: { authorization: `Bearer ${good}`, traceparent: bad, tracestate: bad },
        });
        expect(res.status).toBe(200);
      }
      const g2 = await grpcClient.resolve({
        authorization: `Bearer ${good}`,
        metadata: { traceparent: 'ff-bad' },
      });
      expect(g2.ok).toBe(true);
    } finally {
      await db.end();
      grpcClient.close();
      // SIGTERM: the graceful shutdown flushes what the batch processor holds.
      expect(await app.stop()).toBe(0);
    }
    await eventually('the flushed spans', () =>
      Promise.resolve(receiver.spans().some((s) => s.name === 'GET /metrics')),
    );

    const spans = receiver.spans();
    const inTrace = (t: { traceId: string }) => spans.filter((s) => s.traceId === t.traceId);
    const server = (t: { traceId: string; spanId: string }) => {
      const found = inTrace(t).filter((s) => s.kind === SERVER);
      expect(found).toHaveLength(1);
      expect(found[0]!.parentSpanId).toBe(t.spanId);
      return found[0]!;
    };
    const stepsOf = (t: { traceId: string }, root: ReceivedSpan) =>
      inTrace(t)
        .filter((s) => s.name.startsWith('resolver.step.') && s.parentSpanId === root.spanId)
        .map((s) => s.name.slice('resolver.step.'.length));
    const step = (t: { traceId: string }, name: string) =>
      inTrace(t).find((s) => s.name === `resolver.step.${name}`)!;

    // Cold: every step but JIT, the key fetch a client span of the keys step carrying the trace.
    const coldRoot = server(cold);
    expect(coldRoot).toMatchObject({
      name: 'POST /v1/resolve',
      service: 'subject-resolver',
      attributes: expect.objectContaining({
        'http.route': '/v1/resolve',
        'http.response.status_code': 200,
        'resolver.source': 'STORE',
      }),
    });
    expect(stepsOf(cold, coldRoot)).toEqual([
      'extract',
      'tokenCache',
      // The pipeline's steps (docs/architecture.md), JIT not run for a user the store has.
      'format',
      ...['decode', 'issuer', 'algorithm', 'signaturePresent', 'keys', 'signature'],
      ...['timeClaimsAreDates', 'claims', 'timeWindow', 'subject', 'tenant', 'rememberToken'],
      ...['revocation', 'lookup', 'kind', 'signedOut', 'status'],
    ]);
    const keyFetch = inTrace(cold).find((s) => s.name === 'GET' && s.kind === CLIENT)!;
    expect(keyFetch.parentSpanId).toBe(step(cold, 'keys').spanId);
    const atIdp = idp.received.find((r) => String(r.headers.traceparent).includes(cold.traceId));
    expect(atIdp?.headers.traceparent).toBe(`00-${cold.traceId}-${keyFetch.spanId}-01`);
    expect(atIdp?.headers.tracestate).toBe('gw=1');
    const query = inTrace(cold).find((s) => s.name === 'resolver.store.findUser')!;
    expect(query).toMatchObject({ kind: CLIENT, parentSpanId: step(cold, 'lookup').spanId });

    // Warm: the token cache answered; only the warm checks ran.
    expect(stepsOf(warm, server(warm))).toEqual([
      'extract',
      'tokenCache',
      'kind',
      'signedOut',
      'status',
    ]);

    // Forward-auth's refusal: the route template (never the caller's path), the reason on the
    // refusing step, and the log line that names both ids.
    const faRoot = server(refused);
    expect(faRoot.name).toBe('GET /v1/authz/*');
    expect(faRoot.attributes).toMatchObject({
      'http.response.status_code': 401,
      'resolver.reason': 'TOKEN_EXPIRED',
    });
    expect(step(refused, 'timeWindow')).toMatchObject({
      attributes: expect.objectContaining({ 'resolver.reason': 'TOKEN_EXPIRED' }),
      status: { code: 2, message: 'TOKEN_EXPIRED' },
    });
    const line = logLines(app).find(
      (l) => l.event === 'resolution_failed' && l.requestId === 'req-trace-1',
    );
    expect(line).toMatchObject({ traceId: refused.traceId, reason: 'TOKEN_EXPIRED' });

    // gRPC: the method's name, its status, the refusing step.
    const grpcRoot = server(grpc);
    expect(grpcRoot).toMatchObject({
      name: 'identity.v1.SubjectResolver/ResolveSubject',
      attributes: expect.objectContaining({ 'rpc.system': 'grpc', 'rpc.grpc.status_code': 16 }),
    });
    expect(step(grpc, 'jit').attributes['resolver.reason']).toBe('USER_NOT_FOUND');
    expect(server(checkMeta).name).toBe('envoy.service.auth.v3.Authorization/Check');
    expect(server(checkHeaders).attributes['resolver.reason']).toBe('SIGNATURE_INVALID');
    expect(server(metrics).name).toBe('GET /metrics');

    // Malformed trace contexts started new traces: root spans, answered as usual.
    const roots = spans.filter((s) => s.kind === SERVER && s.parentSpanId === '');
    expect(roots.filter((s) => s.name === 'POST /v1/resolve')).toHaveLength(4);
    expect(roots.filter((s) => s.name.endsWith('/ResolveSubject'))).toHaveLength(1);

    // Nothing from a token in any exported byte: the tokens, their parts, subjects, emails, jti.
    const raw = receiver.rawText();
    expect(raw.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(raw).not.toContain(secret);
    expect(raw).not.toContain('/orders/42');
  });

  it('the built service, configured by OTEL_* variables only: protobuf export, flushed on SIGTERM', async () => {
    const before = receiver.bodies.length;
    const proc = await ResolverProcess.start(
      databaseUrl,
      {
        server: { shutdownDrainMs: 0 },
        issuers: [{ issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] }],
        logging: { level: 'warn' },
      },
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'resolver-e2e-proc',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k-123',
      },
    );
    const t = newTrace();
    const token = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'Proc.Secret.Sub' }));
    try {
      const res = await fetch(`${proc.url}/v1/resolve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, traceparent: traceparent(t) },
      });
      expect(res.status).toBe(401);
    } finally {
      expect(await proc.stop()).toBe(0);
    }
    await eventually('the flushed spans', () => Promise.resolve(receiver.bodies.length > before));
    const sent = receiver.bodies.slice(before);
    expect(sent.every((b) => b.contentType === 'application/x-protobuf')).toBe(true);
    const raw = Buffer.concat(sent.map((b) => b.body));
    // Protobuf carries ids as bytes and strings as UTF-8.
    expect(raw.includes(Buffer.from(t.traceId, 'hex'))).toBe(true);
    expect(raw.includes(Buffer.from(t.spanId, 'hex'))).toBe(true);
    for (const text of [
      'resolver-e2e-proc',
      'POST /v1/resolve',
      'resolver.step.signature',
      'USER_NOT_FOUND',
    ])
      expect(raw.includes(Buffer.from(text))).toBe(true);
    for (const secret of [token, ...token.split('.'), 'Proc.Secret.Sub', 'k-123'])
      expect(raw.includes(Buffer.from(secret))).toBe(false);
    expect(proc.logs()).not.toContain('k-123');
  });

  it('off (the default), the built service loads only the OpenTelemetry API, never the SDK', () => {
    const app = join(__dirname, '..', '..', 'dist', 'apps', 'resolver', 'src', 'resolver-app.js');
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(app)});
         const names = Object.keys(require.cache)
           .filter((k) => k.includes('node_modules/@opentelemetry/'))
           .map((k) => k.split('node_modules/')[1].split('/').slice(0, 2).join('/'));
         process.stdout.write(JSON.stringify([...new Set(names)]));`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(loaded)).toEqual(['@opentelemetry/api']);
  });
});
