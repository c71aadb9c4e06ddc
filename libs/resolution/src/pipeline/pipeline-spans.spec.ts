import { Writable } from 'node:stream';
import { context, type Context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type Tracing } from '@resolver/observability';
import { startTracing } from '@resolver/observability/tracing-sdk';
import { isResolutionError } from '@resolver/reasons';
import type { InMemoryUserRepository } from '@resolver/identity/testing';
import { type NearMiss, NearMissRepository, ScimProvenanceRepository } from '@resolver/identity';
import { DiagnoseSubject } from '../diagnosis/diagnose-subject';
import type { UnitWorld } from '../testing/unit-fixture';
import type { ResolveSubject } from '../resolve-subject';
import { HS, OPAQUE, T, unitIssuers } from '../testing/unit-fixture';
import { PIPELINE } from './pipeline';

/**
 * The pipeline traced (tracing on, the SDK's in-memory exporter): the caller's trace continued,
 * one span per step that runs in the pipeline's order, the reason code on the step that refuses,
 * store and IdP calls as client spans of their step, and nothing from a token in any span.
 */

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

let fixture: Awaited<ReturnType<typeof unitIssuers>>;
let exporter: InMemorySpanExporter;
let tracing: Tracing;
let resolver: ResolveSubject;
let users: InMemoryUserRepository;
let logLines: Record<string, unknown>[];
let world: UnitWorld;

beforeAll(async () => {
  fixture = await unitIssuers();
  exporter = new InMemorySpanExporter();
  tracing = startTracing({ ...fixture.config.tracing, enabled: true }, { exporter, simple: true });
});

afterAll(async () => {
  await tracing.shutdown();
  await fixture.cleanup();
});

beforeEach(async () => {
  exporter.reset();
  logLines = [];
  const log = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  world = await fixture.world({ tracing, log });
  ({ resolver, users } = world);
});

/** One request as a transport serves it: a server span continuing the caller's traceparent. */
async function serve(token: string, traceparent = TRACEPARENT) {
  const parent: Context = tracing.extract(
    { traceparent },
    { get: (c, k) => c[k as 'traceparent'], keys: (c) => Object.keys(c) },
  );
  const server = tracing.startServer('POST /v1/resolve', parent, {});
  let outcome: string;
  try {
    const r = await context.with(trace.setSpan(parent, server), () =>
      resolver.resolve({ token, transport: 'http', requestId: 'req-1' }),
    );
    outcome = `OK:${r.source}`;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    outcome = error.reason;
  } finally {
    server.end();
  }
  const spans = exporter.getFinishedSpans();
  exporter.reset();
  return { outcome, spans, server: spans.find((s) => s.name === 'POST /v1/resolve')! };
}

const steps = (spans: readonly ReadableSpan[]) =>
  spans
    .filter((s) => s.name.startsWith('resolver.step.'))
    .map((s) => s.attributes['resolver.step']);
const byStep = (spans: readonly ReadableSpan[], step: string) =>
  spans.find((s) => s.name === `resolver.step.${step}`)!;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('the pipeline traced', () => {
  it('continues the caller’s trace: every span in it, the steps children of the request span', async () => {
    users.seed({ link: { issuer: HS, subject: 'alice' } });
    const { outcome, spans, server } = await serve(fixture.hs({}));
    expect(outcome).toBe('OK:STORE');
    for (const span of spans) expect(span.spanContext().traceId).toBe(CALLER_TRACE);
    expect(parentOf(server)).toBe(CALLER_SPAN);
    for (const span of spans.filter((s) => s.name.startsWith('resolver.step.')))
      expect(parentOf(span)).toBe(server.spanContext().spanId);
    expect(server.attributes['resolver.source']).toBe('STORE');
  });

  it('one span per step that runs, in the pipeline’s order; the warm path only its checks', async () => {
    users.seed({ link: { issuer: HS, subject: 'alice' } });
    const token = fixture.hs({});
    const cold = await serve(token);
    // JIT runs only for a user the store lacks, the binding step only for a bound token (or an
    // issuer that requires one): neither applies to this plain bearer token of a seeded user.
    // Nor do the steps of other token formats (an opaque token's, a JWE's, a PASETO's).
    const ofAnotherFormat = (s: (typeof PIPELINE)[number]) =>
      s.stage === 'token' &&
      s.name !== 'rememberToken' &&
      s.when !== undefined &&
      !s.when({ format: 'jws' } as never);
    const ran = PIPELINE.filter((s) => !ofAnotherFormat(s))
      .map((s) => s.name)
      .filter((n) => n !== 'jit' && n !== 'binding');
    expect(steps(cold.spans)).toEqual(['extract', 'tokenCache', ...ran]);
    // The store lookup is a client span of the lookup step.
    const query = cold.spans.find((s) => s.name === 'resolver.store.findUser')!;
    expect(query.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(query)).toBe(byStep(cold.spans, 'lookup').spanContext().spanId);

    const warm = await serve(token);
    expect(warm.outcome).toBe('OK:CACHE');
    expect(steps(warm.spans)).toEqual(['extract', 'tokenCache', 'kind', 'signedOut', 'status']);
    expect(warm.server.attributes['resolver.source']).toBe('CACHE');
  });

  it('JIT runs only for a user the store lacks, its store call a client span of its own', async () => {
    const { outcome, spans } = await serve(fixture.hs({ sub: 'newbie', email: 'n@x.test' }));
    expect(outcome).toBe('OK:PROVISIONED');
    expect(steps(spans)).toContain('jit');
    const provision = spans.find((s) => s.name === 'resolver.store.provision')!;
    expect(parentOf(provision)).toBe(byStep(spans, 'jit').spanContext().spanId);
  });

  it('a refusal: the reason code and error status on the step that refused, no later step', async () => {
    const { outcome, spans, server } = await serve(fixture.hs({ exp: T - 3600 }));
    expect(outcome).toBe('TOKEN_EXPIRED');
    const names = steps(spans);
    expect(names.at(-1)).toBe('timeWindow');
    const refused = byStep(spans, 'timeWindow');
    expect(refused.attributes['resolver.reason']).toBe('TOKEN_EXPIRED');
    expect(refused.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TOKEN_EXPIRED' });
    for (const span of spans.filter((s) => s !== refused && s.name.startsWith('resolver.step.')))
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(server.attributes['resolver.reason']).toBe('TOKEN_EXPIRED');
    // Before the pipeline: extract refuses in its own span.
    const missing = await serve('');
    expect(missing.outcome).toBe('TOKEN_MISSING');
    expect(steps(missing.spans)).toEqual(['extract']);
    expect(byStep(missing.spans, 'extract').attributes['resolver.reason']).toBe('TOKEN_MISSING');
  });

  it('an IdP that cannot be reached: the keys step refuses, its fetch a failed client span', async () => {
    const { outcome, spans } = await serve(fixture.down());
    expect(outcome).toBe('KEYS_UNAVAILABLE');
    const keys = byStep(spans, 'keys');
    expect(keys.attributes['resolver.reason']).toBe('KEYS_UNAVAILABLE');
    const fetch = spans.find((s) => s.name === 'GET')!;
    expect(fetch.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(fetch)).toBe(keys.spanContext().spanId);
    expect(fetch.status.code).toBe(SpanStatusCode.ERROR);
    expect(fetch.attributes['error.type']).toEqual(expect.any(String));
  });

  it('an opaque token: the opaque step, its introspection request a client span under it', async () => {
    users.seed({ email: 'olive@x.test', link: { issuer: OPAQUE, subject: 'olive' } });
    const { outcome, spans } = await serve('op_olive');
    expect(outcome).toBe('OK:STORE');
    const step = byStep(spans, 'opaque');
    const post = spans.find((s) => s.name === 'POST')!;
    expect(post.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(post)).toBe(step.spanContext().spanId);
    expect(post.attributes['url.full']).toBe(fixture.introspection.url);
  });

  it('the failure log line carries the request id and the request span’s trace id', async () => {
    await serve(fixture.hs({ exp: T - 3600 }));
    const line = logLines.find((l) => l.event === 'resolution_failed')!;
    expect(line).toMatchObject({ requestId: 'req-1', traceId: CALLER_TRACE });
    // A malformed traceparent is ignored: a new trace, and the line names that one.
    const fresh = await serve(
      fixture.hs({ exp: T - 3600 }),
      `00-${'g'.repeat(32)}-${CALLER_SPAN}-01`,
    );
    const traceId = fresh.server.spanContext().traceId;
    expect(traceId).not.toBe(CALLER_TRACE);
    expect(parentOf(fresh.server)).toBeUndefined();
    expect(logLines.at(-1)).toMatchObject({ requestId: 'req-1', traceId });
  });

  it('no token, claim value, subject, email or secret in any span, for hostile and normal tokens', async () => {
    users.seed({ email: 'alice.secret@x.test', link: { issuer: HS, subject: 'alice' } });
    const secretSub = 'Sub-Secret-7f3a';
    const tokens = [
      fixture.hs({ email: 'alice.secret@x.test' }),
      fixture.hs({ sub: secretSub, email: 'jit-secret@x.test', jti: 'jti-secret-1' }),
      fixture.hs({ sub: 'Expired-Secret-Sub', exp: T - 3600 }),
      fixture.hs({ aud: 'api://audience-secret' }),
      fixture.hs({ iss: 'https://issuer-secret.evil.test' }),
      fixture.hs({ sub: 'bad\u3000subject-secret' }),
      fixture.hs({}, { alg: 'none', kid: 'kid-secret-header' }),
      `${fixture.hs({ sub: 'forged-secret' }).slice(0, -6)}AAAAAA`,
      await fixture.es({ sub: 'tenantless-secret', tid: undefined }),
      fixture.down(),
      'not-a-token-secret.at.all',
      // Opaque tokens: introspected (a POST client span), inactive, a failing endpoint.
      'op_olive',
      'op_never-issued-secret',
      'op_broken',
      `${'x'.repeat(40)}.${'y'.repeat(40)}`,
    ];
    const secrets = [
      secretSub,
      'alice',
      'alice.secret@x.test',
      'jit-secret@x.test',
      'jti-secret-1',
      'Expired-Secret-Sub',
      'audience-secret',
      'issuer-secret',
      'subject-secret',
      'kid-secret-header',
      'forged-secret',
      'tenantless-secret',
      'not-a-token-secret',
      'a-unit-test-hmac-secret',
      'never-issued-secret',
    ];
    const recorded: string[] = [];
    const keys = new Set<string>();
    for (const token of tokens) {
      const { spans } = await serve(token);
      expect(spans.length).toBeGreaterThan(1);
      for (const span of spans) {
        recorded.push(span.name, span.status.message ?? '');
        for (const [k, v] of Object.entries(span.attributes)) {
          keys.add(k);
          recorded.push(k, String(v));
        }
        for (const event of span.events)
          recorded.push(event.name, JSON.stringify(event.attributes));
        for (const link of span.links) recorded.push(JSON.stringify(link.attributes));
      }
      // Every part of the token (header, payload, signature) and the token itself.
      secrets.push(token, ...token.split('.').filter((part) => part.length >= 8));
    }
    const all = recorded.join('\n');
    for (const secret of secrets) expect(all).not.toContain(secret);
    // Only the resolver's own attribute keys, and the standard ones of the client spans.
    expect([...keys].sort()).toEqual(
      [
        'resolver.reason',
        'resolver.source',
        'resolver.step',
        'resolver.stage',
        'error.type',
        'db.system.name',
        'db.operation.name',
        'http.request.method',
        'url.full',
        'server.address',
      ].sort(),
    );
  });

  it('a diagnosis: each step it runs in its span, the refusal recorded, the later steps still run', async () => {
    const diagnoser = new DiagnoseSubject(
      world.config,
      world.verifier,
      world.users,
      world.revocations,
      new (class extends NearMissRepository {
        find(): Promise<NearMiss[]> {
          return Promise.resolve([]);
        }
      })(),
      world.caches,
      world.clock,
      new (class extends ScimProvenanceRepository {
        find(): Promise<null> {
          return Promise.resolve(null);
        }
      })(),
      world.proofs,
      tracing,
    );
    const d = await diagnoser.diagnose({ token: fixture.hs({ exp: T - 3600 }) });
    expect(d.verdict.reason).toBe('TOKEN_EXPIRED');
    const spans = exporter.getFinishedSpans();
    const names = steps(spans);
    expect(names.indexOf('timeWindow')).toBeGreaterThan(-1);
    expect(names.indexOf('subject')).toBeGreaterThan(names.indexOf('timeWindow'));
    expect(byStep(spans, 'timeWindow').attributes['resolver.reason']).toBe('TOKEN_EXPIRED');
    expect(byStep(spans, 'subject').status.code).not.toBe(SpanStatusCode.ERROR);
  });
});
