import { createHash } from 'node:crypto';
import { NotFoundException, UnauthorizedException } from '@nestjs/common';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ResolverConfig, ScimClientConfig } from '@resolver/config';
import { ScimConflict, StoreRefusal, UnrenderablePredicate } from '@resolver/identity';
import type { ErrorSurface, InternalErrors } from '@resolver/observability';
import { AdminError, ScimError } from '@resolver/provisioning';
import { ResolutionError } from '@resolver/reasons';
import { AdminDisabled } from '../admin-disabled';
import { HttpErrorPath } from './http-error-path';
import { RouteTable } from './route-table';

const SCIM_TOKEN = 'scim-credential';
const client = {
  id: 'okta',
  tokenSha256: new Uint8Array(createHash('sha256').update(SCIM_TOKEN).digest()),
} as unknown as ScimClientConfig;

/**
 * The one HTTP error path on a real Fastify instance, wired as the app wires it: Fastify's one
 * error handler and its not-found handler hand every failure to it (as Nest's do), and a direct
 * route names its own surface. Each case throws from a handler and reads the answer and the
 * count of bugs.
 */
describe('HttpErrorPath: one answer per surface, every bug counted once', () => {
  let fastify: FastifyInstance;
  const reports: ErrorSurface[] = [];
  let thrown: unknown;

  beforeAll(async () => {
    fastify = Fastify({ bodyLimit: 64 });
    const config = {
      domain: 'resolver.test',
      issuers: [],
      scim: { clients: [client] },
    } as unknown as ResolverConfig;
    const internalErrors = {
      report: (surface: ErrorSurface) => void reports.push(surface),
    } as unknown as InternalErrors;
    const routes = new RouteTable({ httpAdapter: { getInstance: () => fastify } } as never);
    const path = new HttpErrorPath(config, internalErrors, routes);
    fastify.setErrorHandler((error, request, reply) => path.answer(error, request, reply));
    fastify.setNotFoundHandler((request, reply) =>
      path.answer(new NotFoundException(`Cannot ${request.method} ${request.url}`), request, reply),
    );
    const fail = () => {
      throw thrown;
    };
    fastify.post('/v1/resolve', { errorHandler: path.forRoute('http') }, fail);
    fastify.get('/metrics', fail);
    fastify.get('/admin/v1/users/:id', fail);
    fastify.post('/admin/v1/users', fail);
    fastify.post('/scim/v2/Users', fail);
    fastify.get('/scim/v2/Users', fail);
    fastify.get('/scim/v2/Users/:id', fail);
    await fastify.ready();
  });
  afterAll(() => fastify.close());

  const answer = async (
    error: unknown,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    extra: { body?: string; headers?: Record<string, string> } = {},
  ) => {
    thrown = error;
    reports.length = 0;
    const res = await fastify.inject({
      method,
      url,
      payload: extra.body,
      headers: {
        ...(extra.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...extra.headers,
      },
    });
    return {
      status: res.statusCode,
      type: String(res.headers['content-type']).split(';')[0],
      headers: res.headers,
      body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : undefined,
      counted: [...reports],
    };
  };
  const bug = new Error('SELECT secret FROM keys');

  it('a bug is a bare 500 in each surface shape, counted once on its surface', async () => {
    for (const [method, url, surface, type] of [
      ['POST', '/v1/resolve', 'http', 'application/problem+json'],
      ['GET', '/metrics', 'http', 'application/problem+json'],
      ['POST', '/admin/v1/users', 'admin', 'application/problem+json'],
      ['GET', '/scim/v2/Users', 'scim', 'application/scim+json'],
    ] as const) {
      const res = await answer(bug, method, url, { body: method === 'POST' ? '{}' : undefined });
      expect([res.status, res.type, res.counted]).toEqual([500, type, [surface]]);
      expect(JSON.stringify(res.body)).not.toContain('SELECT');
    }
  });

  it("a refusal a surface has no answer for is that surface's bug: 500, counted once", async () => {
    const scimOnAdmin = await answer(ScimError.notFound('x'), 'POST', '/admin/v1/users', {
      body: '{}',
    });
    expect([scimOnAdmin.status, scimOnAdmin.counted]).toEqual([500, ['admin']]);
    const adminOnScim = await answer(new AdminError('INVALID', 'x'), 'GET', '/scim/v2/Users');
    expect([adminOnScim.status, adminOnScim.body?.status, adminOnScim.counted]).toEqual([
      500,
      '500',
      ['scim'],
    ]);
  });

  it('problem+json: reasons by the reason table, admin refusals by kind, nothing counted', async () => {
    const refused = await answer(
      new ResolutionError('USER_STORE_UNAVAILABLE'),
      'POST',
      '/v1/resolve',
    );
    expect(refused).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
      body: {
        reason: 'USER_STORE_UNAVAILABLE',
        type: 'urn:resolver.test:reason:USER_STORE_UNAVAILABLE',
      },
      counted: [],
    });
    const conflict = await answer(
      new AdminError('CONFLICT', 'email: taken', 'email'),
      'POST',
      '/admin/v1/users',
      { body: '{}' },
    );
    expect(conflict).toMatchObject({
      status: 409,
      body: { type: 'about:blank', title: 'CONFLICT', field: 'email' },
      counted: [],
    });
    const off = await answer(
      new AdminDisabled('start with ADMIN_TOKEN'),
      'GET',
      '/admin/v1/users/1',
    );
    expect(off).toMatchObject({
      status: 404,
      body: { title: 'Admin API disabled', detail: 'start with ADMIN_TOKEN' },
      counted: [],
    });
  });

  it('a 401 carries the admin challenge behind the admin credential, and not elsewhere', async () => {
    const unauthorized = new UnauthorizedException('a valid admin bearer credential is required');
    const admin = await answer(unauthorized, 'GET', '/admin/v1/users/1');
    expect([admin.status, admin.headers['www-authenticate'], admin.body?.title]).toEqual([
      401,
      'Bearer realm="resolver-admin"',
      'Unauthorized',
    ]);
    const other = await answer(unauthorized, 'GET', '/metrics');
    expect([other.status, other.headers['www-authenticate']]).toEqual([401, undefined]);
  });

  it('SCIM: every store and use-case refusal as its RFC 7644 error, nothing counted', async () => {
    const cases: [unknown, number, string | undefined][] = [
      [ScimError.invalid('invalidPath', 'path: unknown'), 400, 'invalidPath'],
      [new ScimError('preconditionFailed', 'If-Match'), 412, undefined],
      [new ScimError('notImplemented', 'root search'), 501, undefined],
      [new ScimConflict('userName'), 409, 'uniqueness'],
      [new StoreRefusal('invalid', 'users_email_length_check'), 400, 'invalidValue'],
      [new UnrenderablePredicate('members is a group attribute'), 400, 'invalidFilter'],
      [new ResolutionError('USER_STORE_UNAVAILABLE'), 503, undefined],
    ];
    for (const [error, status, scimType] of cases) {
      const res = await answer(error, 'GET', '/scim/v2/Users');
      expect([res.status, res.type, res.body?.status, res.body?.scimType, res.counted]).toEqual([
        status,
        'application/scim+json',
        String(status),
        scimType,
        [],
      ]);
    }
  });

  it("body errors before any handler keep each surface's shape, and are not bugs", async () => {
    const scimJson = await answer(bug, 'POST', '/scim/v2/Users', { body: '{' });
    expect([scimJson.status, scimJson.type, scimJson.body?.scimType, scimJson.counted]).toEqual([
      400,
      'application/scim+json',
      'invalidSyntax',
      [],
    ]);
    const scimLarge = await answer(bug, 'POST', '/scim/v2/Users', { body: `"${'x'.repeat(100)}"` });
    expect([scimLarge.status, scimLarge.body?.detail]).toEqual([
      413,
      'the body is larger than server.bodyLimitBytes',
    ]);
    const resolveJson = await answer(bug, 'POST', '/v1/resolve', { body: '{' });
    expect([
      resolveJson.status,
      resolveJson.type,
      resolveJson.body?.title,
      resolveJson.counted,
    ]).toEqual([400, 'application/problem+json', 'Bad Request', []]);
    const media = await answer(bug, 'POST', '/v1/resolve', {
      body: 'x',
      headers: { 'content-type': 'text/x-nothing' },
    });
    expect([media.status, media.counted]).toEqual([415, []]);
  });

  it('a request no route took: 405 naming the methods its path has, else 404', async () => {
    const put = await answer(bug, 'PUT', '/metrics?x=1');
    expect([put.status, put.headers.allow, put.counted]).toEqual([405, 'GET, HEAD', []]);
    const param = await answer(bug, 'DELETE', '/admin/v1/users/42');
    expect([param.status, param.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await answer(bug, 'GET', '/nowhere')).status).toBe(404);
    // SCIM: the endpoint's methods without HEAD, and only once the client is authenticated.
    const anonymous = await answer(bug, 'PUT', '/scim/v2/Users/42');
    expect([anonymous.status, anonymous.type, anonymous.headers.allow]).toEqual([
      401,
      'application/scim+json',
      undefined,
    ]);
    const scim = await answer(bug, 'PUT', '/scim/v2/Users/42', {
      headers: { authorization: `Bearer ${SCIM_TOKEN}` },
    });
    expect([scim.status, scim.headers.allow, scim.body?.status]).toEqual([405, 'GET', '405']);
    const unknown = await answer(bug, 'GET', '/scim/v2/Users/42/x');
    expect([unknown.status, unknown.type]).toEqual([404, 'application/scim+json']);
  });

  it('hostile paths only ever meet escaped route patterns: 404, never a wrong 405', async () => {
    for (const url of [
      '/metrics/',
      '/metricsX',
      '/.*',
      '/admin/v1/users/(.*)/x',
      '/admin/v1/users/',
      '/scim/v2/Users/a%2Fb/c',
      `/${'a/'.repeat(200)}`,
    ]) {
      const res = await answer(bug, 'PUT', url);
      expect([url, res.status, res.counted]).toEqual([url, 404, []]);
    }
  });
});
