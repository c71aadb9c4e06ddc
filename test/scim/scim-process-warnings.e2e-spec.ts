import { createTestDatabase } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverProcess } from '../support/resolver-process';
import { ADMIN_TOKEN, OKTA_TOKEN, SCIM, scimConfig } from './scim-fixture';

/**
 * The built resolver, started as production starts it with SCIM and the admin API configured,
 * prints no process warning: in particular no Fastify FSTWRN004 ("overriding an errorHandler in
 * the same scope"), which a second `setErrorHandler` on the root instance used to cause at every
 * start. Every error surface is exercised once (SCIM, problem+json, the direct routes), so a
 * warning a failure path emits lazily would show too.
 */
describe('a start with SCIM configured prints no process warning', () => {
  let idp: JwksServer;
  let proc: ResolverProcess;

  beforeAll(async () => {
    idp = await new JwksServer().start();
    const config = scimConfig(idp.publishJwks('warn', []));
    proc = await ResolverProcess.start(
      await createTestDatabase('scim_process_warnings'),
      { issuers: config.issuers, scim: config.scim },
      { ADMIN_TOKEN },
    );
  });
  afterAll(async () => {
    await proc?.stop();
    await idp?.stop();
  });

  it('no FSTWRN004, no warning of any kind, while every surface answers its errors', async () => {
    const call = (path: string, init: RequestInit) => fetch(`${proc.url}${path}`, init);
    const scim = { authorization: `Bearer ${OKTA_TOKEN}`, 'content-type': SCIM };
    // SCIM: a body that is not JSON, an anonymous request, a wrong method.
    const badJson = await call('/scim/v2/Users', { method: 'POST', headers: scim, body: '{' });
    expect([badJson.status, badJson.headers.get('content-type')]).toEqual([
      400,
      expect.stringContaining(SCIM),
    ]);
    expect((await call('/scim/v2/Users', { method: 'GET' })).status).toBe(401);
    expect(
      (await call('/scim/v2/Users', { method: 'PUT', headers: scim, body: '{}' })).status,
    ).toBe(405);
    // problem+json: the admin API, an unknown route; the direct route's body error.
    const admin = await call('/admin/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{',
    });
    expect([admin.status, admin.headers.get('content-type')]).toEqual([
      400,
      expect.stringContaining('application/problem+json'),
    ]);
    expect((await call('/nowhere', { method: 'GET' })).status).toBe(404);
    const resolve = await call('/v1/resolve', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(resolve.status).toBe(400);

    expect(await proc.stop()).toBe(0);
    const output = proc.logs();
    expect(output).not.toContain('FSTWRN004');
    // Node prints every process warning as "(node:PID) [CODE] Name: text" on stderr.
    expect(output).not.toMatch(/\(node:\d+\).*Warning/);
  });
});
