import { createTestDatabase } from './support/database';
import { ResolverHarness, type HttpResult } from './support/resolver-harness';

const ADMIN_TOKEN = 'admin-secret-for-http-errors-0123456789';
const PROBLEM = 'application/problem+json';

/** Unknown routes, wrong methods and framework refusals: problem documents titled by status. */
describe('HTTP errors outside any handler', () => {
  let app: ResolverHarness;

  beforeAll(async () => {
    app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('http_errors'),
      issuers: [],
      env: { ADMIN_TOKEN },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const expectProblem = (res: HttpResult, status: number, title: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain(PROBLEM);
    expect(res.body).toMatchObject({ type: 'about:blank', status, title });
  };

  it('an unknown route is a 404 problem document', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['POST', '/v1/nowhere'],
      ['GET', '/v1/resolve/extra'],
    ] as const) {
      expectProblem(await app.http(path, { method }), 404, 'Not Found');
    }
  });

  it('GET /v1/resolve is a 405 that names the method to use', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await app.http('/v1/resolve?x=1', { method });
      expectProblem(res, 405, 'Method Not Allowed');
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('a wrong method on a Nest route is a 405 too', async () => {
    const res = await app.http('/metrics', { method: 'POST' });
    expectProblem(res, 405, 'Method Not Allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a body too large is titled by its status phrase, on the direct and the Nest routes', async () => {
    const body = JSON.stringify({ token: 'x'.repeat(70_000) });
    const headers = { 'content-type': 'application/json' };
    expectProblem(
      await app.http('/v1/resolve', { method: 'POST', headers, body }),
      413,
      'Payload Too Large',
    );
    expectProblem(
      await app.http('/v1/diagnose', {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${ADMIN_TOKEN}` },
        body,
      }),
      413,
      'Payload Too Large',
    );
  });

  it('a 401 from the admin credential check is titled Unauthorized, not a class name', async () => {
    for (const path of ['/admin/v1/users', '/v1/diagnose']) {
      const res = await app.http(path, {
        method: path === '/v1/diagnose' ? 'POST' : 'GET',
        headers: { authorization: 'Bearer wrong' },
      });
      expectProblem(res, 401, 'Unauthorized');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
  });
});
