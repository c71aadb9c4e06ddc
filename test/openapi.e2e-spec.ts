import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from './support/database';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';

const AUD = 'api://openapi';
const ISS = 'https://openapi.idp.test';
const ADMIN_TOKEN = 'admin-secret-for-openapi-0123456789';
const DOC_ID = 'https://resolver.test/openapi.json';
let compiled = 0;

/**
 * GET /openapi.json is a valid OpenAPI 3.1 document (checked by an OpenAPI validator nobody here
 * wrote), and the answers the real app gives match the schemas it declares for them — success
 * bodies and problem documents alike — so the document cannot drift from what is served.
 */
describe('OpenAPI document', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let db: Pool;
  let doc: any;
  let ajv: Ajv2020;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const token = (overrides: Record<string, unknown> = {}) =>
    keys.sign(claimsFor(ISS, AUD, Math.floor(Date.now() / 1000), { sub: 'alice', ...overrides }));

  /** Asserts that a real answer matches the schema the document gives for path/method/status. */
  const expectDocumented = (
    path: string,
    method: string,
    res: { status: number; headers: Headers; body: unknown },
  ) => {
    const operation = doc.paths[path]?.[method];
    expect(operation).toBeDefined();
    const response = operation.responses[String(res.status)];
    expect({ path, method, status: res.status, documented: response !== undefined }).toEqual({
      path,
      method,
      status: res.status,
      documented: true,
    });
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0] as string;
    const schema = response.content?.[contentType]?.schema;
    if (!schema) return;
    const validate = ajv.compile({
      ...schema,
      $id: `https://resolver.test/${method}${path.replace(/[{}]/g, '')}/${res.status}/${++compiled}`,
    });
    expect({
      path,
      status: res.status,
      errors: validate(res.body) ? null : validate.errors,
    }).toEqual({ path, status: res.status, errors: null });
  };

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('openapi');
    const databaseUrl = await createTestDatabase('openapi');
    db = sqlPool(databaseUrl);
    app = await ResolverHarness.start({
      databaseUrl,
      env: { ADMIN_TOKEN },
      issuers: [
        {
          issuer: ISS,
          jwksUri: idp.publishJwks('openapi', keys.publicJwks()),
          audiences: [AUD],
          algorithms: ['RS256'],
        },
      ],
    });
    await seedUser(db, ISS, { subject: 'alice', email: 'alice@example.com' });
    const res = await app.http('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    // Component references resolve against the served document itself.
    ajv.addSchema({ $id: DOC_ID, components: doc.components });
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (node && typeof node === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(node))
          out[k] = k === '$ref' && typeof v === 'string' ? `${DOC_ID}${v}` : rewrite(v);
        return out;
      }
      return node;
    };
    doc = rewrite(doc);
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await idp?.stop();
  });

  it('is a valid OpenAPI 3.1 document covering resolve, authz, diagnose and admin', async () => {
    const served = (await app.http('/openapi.json')).body;
    const run = spawnSync('node', [join(__dirname, 'support', 'validate-openapi.mjs')], {
      input: JSON.stringify(served),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ valid: true });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/resolve',
        '/v1/authz',
        '/v1/diagnose',
        '/admin/v1/users',
        '/admin/v1/users/{id}',
        '/admin/v1/tokens/revoke',
      ]),
    );
  });

  it('resolve: the 200 body and the refusals match their schemas', async () => {
    expectDocumented('/v1/resolve', 'post', await app.resolveHttp({ token: await token() }));
    expectDocumented(
      '/v1/resolve',
      'post',
      await app.resolveHttp({ token: await token({ sub: 'nobody' }) }),
    );
    expectDocumented('/v1/resolve', 'post', await app.resolveHttp({}));
    expectDocumented('/v1/resolve', 'post', await app.resolveHttp({ token: 'not-a-token' }));
  });

  it('authz and diagnose answers match', async () => {
    const authz = await app.http('/v1/authz', {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expectDocumented('/v1/authz', 'get', authz);
    expectDocumented('/v1/authz', 'get', await app.http('/v1/authz'));
    for (const t of [await token(), await token({ sub: 'nobody' }), 'junk']) {
      expectDocumented(
        '/v1/diagnose',
        'post',
        await app.http('/v1/diagnose', {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ token: t }),
        }),
      );
    }
  });

  it('admin answers match: create, list, get, update, lifecycle, identities, revoke, audit, errors', async () => {
    const call = (method: string, path: string, body?: unknown) =>
      app.http(`/admin/v1${path}`, {
        method,
        headers: admin,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await call('POST', '/users', { email: 'bob@example.com', roles: ['reader'] });
    expectDocumented('/admin/v1/users', 'post', created);
    const id = created.body.id as string;
    expectDocumented('/admin/v1/users', 'get', await call('GET', '/users?limit=5'));
    expectDocumented('/admin/v1/users/{id}', 'get', await call('GET', `/users/${id}`));
    expectDocumented(
      '/admin/v1/users/{id}',
      'patch',
      await call('PATCH', `/users/${id}`, { displayName: 'Bob' }),
    );
    expectDocumented(
      '/admin/v1/users/{id}/disable',
      'post',
      await call('POST', `/users/${id}/disable`),
    );
    const linked = await call('POST', `/users/${id}/identities`, { issuer: ISS, subject: 'bob' });
    expectDocumented('/admin/v1/users/{id}/identities', 'post', linked);
    expectDocumented(
      '/admin/v1/users/{id}/identities',
      'get',
      await call('GET', `/users/${id}/identities`),
    );
    expectDocumented(
      '/admin/v1/tokens/revoke',
      'post',
      await call('POST', '/tokens/revoke', {
        issuer: ISS,
        jti: 'j-1',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    expectDocumented('/admin/v1/audit/identifiers', 'get', await call('GET', '/audit/identifiers'));
    expectDocumented(
      '/admin/v1/users/import',
      'post',
      await call('POST', '/users/import', { rows: [{ email: 'carol@example.com' }], dryRun: true }),
    );
    // Errors: a bad field, a missing user, a duplicate, a missing credential.
    expectDocumented('/admin/v1/users', 'post', await call('POST', '/users', { email: 'nope' }));
    expectDocumented(
      '/admin/v1/users/{id}',
      'get',
      await call('GET', '/users/00000000-0000-4000-8000-000000000000'),
    );
    expectDocumented(
      '/admin/v1/users',
      'post',
      await call('POST', '/users', { email: 'bob@example.com' }),
    );
    expectDocumented('/admin/v1/users', 'get', await app.http('/admin/v1/users'));
  });
});
