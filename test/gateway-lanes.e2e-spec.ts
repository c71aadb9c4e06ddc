import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Pool } from 'pg';
import { ForwardAuthLane } from '../apps/resolver/src/authz/forward-auth-lane';
import { ExtAuthzGrpcController } from '../apps/resolver/src/authz/ext-authz.grpc-controller';
import { GatewayAuthorizer } from '../apps/resolver/src/authz/gateway-authorizer';
import { SubjectResolverGrpcController } from '../apps/resolver/src/resolve/subject-resolver.grpc-controller';
import { createTestDatabase, sqlPool } from './support/database';
import { ExtAuthzClient } from './support/ext-authz-client';
import { seedUser } from './support/gateway-fixtures';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';

const AUD = 'api://lanes-test';
const ISSUER = 'https://lanes.idp.test';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection, every response header as sent (fetch hides some). */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The headers two answers must share: all but those that differ per response. */
function comparable(headers: IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, 'x-request-id': _id, ...rest } = headers;
  return rest;
}

/**
 * The gateway lanes (apps/resolver/src/authz/forward-auth-lane.ts, transport/grpc-lanes.ts): a
 * repeated token of a cached user is answered below the framework, with exactly the answer the
 * framework's route gives; everything else — a new token, a refusal, a request with a body, an
 * odd target, shutdown — is left to the route, which answers it as it always has. One file past
 * 400 lines, on purpose: every test compares a lane's answer with the route's of the same app
 * (and the counts its metrics keep), so they share one running resolver and its database.
 */
describe('gateway lanes: the warm answer below the framework, equal to the route', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let db: Pool;
  let app: ResolverHarness;
  let extAuthz: ExtAuthzClient;
  let laneAnswers: number;
  let checkLane: number;
  let resolveLane: number;
  const now = () => Math.floor(Date.now() / 1000);
  // A new token every time (a fresh jti): a test's first request is always the route's.
  const token = (sub: string, extra: Record<string, unknown> = {}) =>
    keys.sign(claimsFor(ISSUER, AUD, now(), { sub, tid: 'acme', jti: randomUUID(), ...extra }));

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('lanes');
    const jwksUri = idp.publishJwks('lanes', keys.publicJwks());
    const databaseUrl = await createTestDatabase('lanes');
    app = await ResolverHarness.start({
      databaseUrl,
      issuers: [
        {
          issuer: ISSUER,
          jwksUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          tenant: { claim: 'tid', required: true },
        },
      ],
      config: { server: { shutdownDrainMs: 600 } },
    });
    db = sqlPool(databaseUrl);
    for (const subject of ['alice', 'bob', 'carol'])
      await seedUser(db, ISSUER, { subject, tenant: 'acme', roles: ['reader'] });
    extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
    // Count what each lane answered (the route's answers are counted by the metrics).
    const nest = app.resolver.app;
    const lane = nest.get(ForwardAuthLane);
    const answer = lane.answer.bind(lane);
    jest.spyOn(lane, 'answer').mockImplementation((req, res) => {
      const answered = answer(req, res);
      if (answered) laneAnswers++;
      return answered;
    });
    const check = nest.get(ExtAuthzGrpcController);
    const checkFromMemory = check.checkFromMemory.bind(check);
    jest.spyOn(check, 'checkFromMemory').mockImplementation((request) => {
      const answered = checkFromMemory(request);
      if (answered) checkLane++;
      return answered;
    });
    const resolve = nest.get(SubjectResolverGrpcController);
    const resolveFromMemory = resolve.resolveFromMemory.bind(resolve);
    jest.spyOn(resolve, 'resolveFromMemory').mockImplementation((request, metadata) => {
      const answered = resolveFromMemory(request, metadata);
      if (answered) resolveLane++;
      return answered;
    });
  });

  beforeEach(() => {
    laneAnswers = 0;
    checkLane = 0;
    resolveLane = 0;
  });

  afterAll(async () => {
    extAuthz?.close();
    // The last test shut the app down; closing it again only confirms it is closed.
    await app?.close().catch(() => undefined);
    await db?.end();
    await idp?.stop();
  });

  describe('forward-auth', () => {
    it('answers a repeated token with the status and headers the route gave it', async () => {
      const headers = { authorization: `Bearer ${await token('alice')}` };
      const first = await raw(app.resolver.httpUrl, '/v1/authz', { headers });
      expect(laneAnswers).toBe(0); // a new token: the route verified it
      const second = await raw(app.resolver.httpUrl, '/v1/authz', { headers });
      expect(laneAnswers).toBe(1);
      expect(second.status).toBe(200);
      expect(comparable(second.headers)).toEqual(comparable(first.headers));
      expect(second.headers['x-user-roles']).toBe('reader');
      expect(second.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(second.body).toBe('');
    });

    it('echoes a sane x-request-id and replaces one that is not', async () => {
      const authorization = `Bearer ${await token('alice')}`;
      await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      const echoed = await raw(app.resolver.httpUrl, '/v1/authz', {
        headers: { authorization, 'x-request-id': 'gw-req-42' },
      });
      expect(echoed.headers['x-request-id']).toBe('gw-req-42');
      const replaced = await raw(app.resolver.httpUrl, '/v1/authz', {
        headers: { authorization, 'x-request-id': authorization.slice(7) },
      });
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(laneAnswers).toBe(2);
    });

    it('takes sub-paths, queries and every route method; HEAD has no body', async () => {
      const authorization = `Bearer ${await token('bob')}`;
      await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      for (const [method, path] of [
        ['GET', '/v1/authz?x=1'],
        ['POST', '/v1/authz/orders/42?expand=items'],
        ['DELETE', '/v1/authz/a/b/c'],
        ['OPTIONS', '/v1/authz/'],
        ['HEAD', '/v1/authz'],
      ] as const) {
        const res = await raw(app.resolver.httpUrl, path, { method, headers: { authorization } });
        expect([method, path, res.status, res.body]).toEqual([method, path, 200, '']);
        expect(res.headers['x-user-roles']).toBe('reader');
      }
      expect(laneAnswers).toBe(5);
    });

    it('leaves to the route a body, an encoded or odd target, and every refusal', async () => {
      const authorization = `Bearer ${await token('carol')}`;
      const first = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      const routed: [string, string, Record<string, string>, string?][] = [
        ['POST', '/v1/authz', { 'content-type': 'application/json' }, '{"a":1}'],
        [
          'PUT',
          '/v1/authz/x',
          { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
          '{}',
        ],
        ['GET', '/v1/authz/%61', {}],
        ['GET', '/v1/authz/caf\u00e9'.replace('\u00e9', '%C3%A9'), {}],
      ];
      for (const [method, path, headers, body] of routed) {
        const res = await raw(app.resolver.httpUrl, path, {
          method,
          headers: { authorization, ...headers },
          body,
        });
        expect([method, path, res.status]).toEqual([method, path, 200]);
        expect(comparable(res.headers)).toEqual(comparable(first.headers));
      }
      // Not the route's paths: the lane never answers them, whatever the token.
      for (const path of ['/v1/authzx', '/v1/Authz', '//v1/authz', '/v1/authz%2F'])
        await raw(app.resolver.httpUrl, path, { headers: { authorization } });
      expect(laneAnswers).toBe(0);
      // A body over the route's limit is still refused by Fastify, not answered.
      const big = await raw(app.resolver.httpUrl, '/v1/authz', {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(big.status).toBe(413);
      expect(laneAnswers).toBe(0);
    });

    it('refusals of cached tokens take the route: generic body, reason counted, one count each', async () => {
      const id = await seedUser(db, ISSUER, { subject: 'dora', tenant: 'acme' });
      const authorization = `Bearer ${await token('dora', { jti: 'lane-jti-1' })}`;
      expect(
        (await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } })).status,
      ).toBe(200);
      await db.query(`UPDATE users SET status = 'disabled' WHERE id = $1`, [id]);
      const deadline = Date.now() + 3_000;
      let res = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      while (res.status === 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        res = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      }
      expect(res.status).toBe(403);
      expect(res.body).toBe('Forbidden\n');
      expect(res.headers['x-user-id']).toBeUndefined();
      const before = await refusedCount('USER_DISABLED');
      await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      expect(await refusedCount('USER_DISABLED')).toBe(before + 1);
    });

    it('a lane that fails: the route reports the fault once (500), and the process lives', async () => {
      const authorization = `Bearer ${await token('alice')}`;
      await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      const authorizer = app.resolver.app.get(GatewayAuthorizer);
      const spy = jest.spyOn(authorizer, 'answerFromMemory').mockImplementationOnce(() => {
        throw new Error('a bug in the lane');
      });
      const before = await metricValue(
        /^resolver_internal_errors_total\{transport="forward_auth"\}/,
      );
      try {
        const res = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
        expect(res.status).toBe(500);
        expect(res.body).not.toContain('a bug in the lane');
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
      const after = await metricValue(
        /^resolver_internal_errors_total\{transport="forward_auth"\}/,
      );
      expect(after).toBe(before + 1);
      // The next request is answered by the lane again.
      const next = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      expect(next.status).toBe(200);
      expect(laneAnswers).toBe(1);
    });

    it('counts each lane answer once, under forward_auth', async () => {
      const authorization = `Bearer ${await token('alice')}`;
      await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      const before = await resolvedCount('forward_auth');
      for (let i = 0; i < 5; i++)
        await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      expect(await resolvedCount('forward_auth')).toBe(before + 5);
      expect(laneAnswers).toBe(5);
    });
  });

  describe('gRPC', () => {
    it('Check answers a repeated token with the OK response the full path gave', async () => {
      const headers = { authorization: `Bearer ${await token('alice')}` };
      const first = await extAuthz.check(headers);
      expect(checkLane).toBe(0);
      const second = await extAuthz.check(headers);
      expect(checkLane).toBe(1);
      expect(second).toEqual(first);
      expect(second.status.code).toBe(0);
    });

    it('ResolveSubject answers a repeated token with the response the full path gave', async () => {
      const t = await token('bob');
      const first = await app.resolveGrpc({ token: t });
      const second = await app.resolveGrpc({ token: t });
      const third = await app.resolveGrpc({ authorization: `Bearer ${t}` });
      expect(resolveLane).toBe(2);
      expect(first.ok && second.ok && third.ok).toBe(true);
      if (!first.ok || !second.ok || !third.ok) return;
      expect({ ...second.response, source: 'X' }).toEqual({ ...first.response, source: 'X' });
      expect(second.response.source).toBe('CACHE');
      expect(third.response).toEqual(second.response);
    });

    it('a repeated token answered after its user changed carries the change, on every surface', async () => {
      const id = await seedUser(db, ISSUER, { subject: 'erin', tenant: 'acme', roles: ['reader'] });
      const t = await token('erin');
      const authorization = `Bearer ${t}`;
      const http = () =>
        raw(app.resolver.httpUrl, '/v1/resolve', { method: 'POST', headers: { authorization } });
      // Twice each: the second answer is the one kept (JSON written once, protobuf encoded once).
      for (let i = 0; i < 2; i++) {
        await app.resolveGrpc({ token: t });
        await extAuthz.check({ authorization });
        await http();
      }
      await db.query(
        `UPDATE users SET email = 'erin.new@acme.test', roles = '{writer}' WHERE id = $1`,
        [id],
      );
      const deadline = Date.now() + 3_000;
      let body = JSON.parse((await http()).body) as { principal: { email: string } };
      while (body.principal.email !== 'erin.new@acme.test' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        body = JSON.parse((await http()).body) as { principal: { email: string } };
      }
      expect(body.principal).toMatchObject({ email: 'erin.new@acme.test', roles: ['writer'] });
      const res = await http();
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      // The first answer after the change read the store; this one is the kept warm answer.
      expect(JSON.parse(res.body)).toEqual({ ...body, source: 'CACHE' });
      resolveLane = 0;
      checkLane = 0;
      const grpc = await app.resolveGrpc({ token: t });
      expect(resolveLane).toBe(1);
      expect(grpc.ok && grpc.response.principal).toMatchObject({
        email: 'erin.new@acme.test',
        roles: ['writer'],
      });
      const check = await extAuthz.check({ authorization });
      expect(checkLane).toBe(1);
      const headers = (check.okResponse.headers as { header: { key: string; value: string } }[])
        .map((o) => o.header)
        .filter((h) => h.key === 'x-user-roles' || h.key === 'x-user-email');
      expect(headers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ key: 'x-user-email', value: 'erin.new@acme.test' }),
          expect.objectContaining({ key: 'x-user-roles', value: 'writer' }),
        ]),
      );
    });

    it('leaves refusals to the full path', async () => {
      const missing = await app.resolveGrpc({ token: '' });
      expect(missing).toMatchObject({ ok: false, code: 16, reason: 'TOKEN_MISSING' });
      const denied = await extAuthz.check({});
      expect(denied.status.code).toBe(16);
      expect(resolveLane + checkLane).toBe(0);
    });
  });

  it('counts each cache lookup once on every surface: a new token one miss, a repeat one hit', async () => {
    // The warm answer's lookups count only when it answers; a request it leaves to the full
    // path is counted there (it was counted in both: two misses per new token).
    const surfaces: [string, (t: string) => Promise<unknown>][] = [
      ['POST /v1/resolve', (t) => app.resolveHttp({ token: t })],
      ['/v1/authz', (t) => raw(app.resolver.httpUrl, '/v1/authz', { headers: bearer(t) })],
      ['ResolveSubject', (t) => app.resolveGrpc({ token: t })],
      ['Check', (t) => extAuthz.check(bearer(t))],
    ];
    for (const [surface, send] of surfaces) {
      const t = await token('alice');
      const before = await cacheCounts();
      await send(t);
      const afterNew = await cacheCounts();
      await send(t);
      const afterRepeat = await cacheCounts();
      expect([surface, delta(before, afterNew)]).toEqual([surface, [0, 1, 1, 0]]);
      expect([surface, delta(afterNew, afterRepeat)]).toEqual([surface, [1, 0, 1, 0]]);
    }
    expect(laneAnswers + checkLane + resolveLane).toBe(3); // the three lanes' repeats
  });

  it('once shutdown begins, the route answers and closes each connection', async () => {
    const authorization = `Bearer ${await token('alice')}`;
    await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
    const shutdown = app.resolver.shutdown();
    try {
      const res = await raw(app.resolver.httpUrl, '/v1/authz', { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe('close');
      expect(laneAnswers).toBe(0);
    } finally {
      await shutdown;
    }
  });

  async function metricValue(pattern: RegExp): Promise<number> {
    const text = (await raw(app.resolver.httpUrl, '/metrics')).body;
    const line = text.split('\n').find((l) => pattern.test(l));
    return line ? Number(line.split(' ').pop()) : 0;
  }
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  /** Token hits, token misses, user hits, user misses. */
  async function cacheCounts(): Promise<number[]> {
    const text = (await raw(app.resolver.httpUrl, '/metrics')).body;
    const count = (cache: string, result: string) => {
      const prefix = `resolver_cache_requests_total{cache="${cache}",result="${result}"} `;
      const line = text.split('\n').find((l) => l.startsWith(prefix));
      return line ? Number(line.slice(prefix.length)) : 0;
    };
    return [
      count('token', 'hit'),
      count('token', 'miss'),
      count('user', 'hit'),
      count('user', 'miss'),
    ];
  }
  const delta = (a: number[], b: number[]) => b.map((v, i) => v - (a[i] as number));
  function resolvedCount(transport: string): Promise<number> {
    return metricValue(
      new RegExp(
        `^resolver_resolutions_total\\{outcome="resolved",reason="NONE",issuer="${ISSUER.replace(/\./g, '\\.')}",transport="${transport}"\\}`,
      ),
    );
  }
  function refusedCount(reason: string): Promise<number> {
    return metricValue(
      new RegExp(
        `^resolver_resolutions_total\\{outcome="refused",reason="${reason}",issuer="${ISSUER.replace(/\./g, '\\.')}",transport="forward_auth"\\}`,
      ),
    );
  }
});
