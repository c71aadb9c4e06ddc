import { createTestDatabase } from './support/database';
import { status } from '@grpc/grpc-js';
import { DiagnoseGrpcClient } from './support/diagnose-grpc-client';
import { ResolverHarness } from './support/resolver-harness';

const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';

describe('admin API', () => {
  let app: ResolverHarness;
  let disabled: ResolverHarness;
  let off: ResolverHarness;
  const call = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) =>
    app.http(`/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('admin'),
      issuers: [],
      env: { ADMIN_TOKEN },
    });
    off = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('admin_off'),
      issuers: [],
    });
    disabled = await ResolverHarness.start({
      databaseUrl: await createTestDatabase('admin_disabled'),
      issuers: [],
      env: { ADMIN_TOKEN },
      config: { admin: { enabled: false } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await off?.close();
    await disabled?.close();
  });

  it('is not served at all without a configured credential, and its 404 says how to enable it', async () => {
    for (const [method, path] of [
      ['GET', '/admin/v1/users'],
      ['POST', '/admin/v1/users/import'],
      ['POST', '/v1/diagnose'],
    ] as const) {
      const res = await off.http(path, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({
        type: 'about:blank',
        status: 404,
        title: 'Admin API disabled',
        detail: expect.stringContaining('start the resolver with ADMIN_TOKEN'),
      });
    }
    const res = await disabled.http('/admin/v1/users', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect([res.status, res.body.title]).toEqual([404, 'Admin API disabled']);
    expect(res.body.detail).toContain('admin.enabled: false in test config');
    // gRPC DiagnoseSubject stays UNIMPLEMENTED, now saying why and how to enable it.
    const grpc = new DiagnoseGrpcClient(off.resolver.grpcAddress);
    try {
      expect(await grpc.diagnose('x.y.z', ADMIN_TOKEN)).toEqual({
        ok: false,
        code: status.UNIMPLEMENTED,
        message: expect.stringContaining(
          'DiagnoseSubject is admin-only and the admin API is disabled: no admin credential',
        ),
      });
    } finally {
      grpc.close();
    }
    // Other unknown routes stay a plain problem 404.
    const other = await off.http('/nowhere');
    expect([other.status, other.body.title]).toEqual([404, 'Not Found']);
  });

  it('import takes its documented 1,000 rows; bodies over a limit are problem documents', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      tenant: 'bulk',
      email: `bulk-${i}@example.com`,
      displayName: `Bulk user number ${i} with a display name long enough to be realistic`,
      roles: ['reader', 'writer'],
      identities: [{ issuer: 'https://idp.example.com/', subject: `bulk-subject-${i}` }],
    }));
    const body = JSON.stringify({ rows, dryRun: true });
    expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
    const ok = await app.http('/admin/v1/users/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(1000);

    const huge = JSON.stringify({ rows: [{ displayName: 'x'.repeat(9 * 1024 * 1024) }] });
    for (const [path, size] of [
      ['/admin/v1/users/import', huge],
      ['/admin/v1/users', JSON.stringify({ displayName: 'x'.repeat(70_000) })],
    ] as const) {
      const res = await app.http(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: size,
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 413, title: 'Payload Too Large' });
    }
  });

  it('requires the bearer credential', async () => {
    for (const token of ['', 'wrong', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const res = await call('GET', '/users', undefined, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await app.http('/admin/v1/users')).status).toBe(401);
  });

  it('creates, reads, updates and lists users; validation errors name the field', async () => {
    const created = await call('POST', '/users', {
      tenant: 't1',
      email: 'Ann@Example.com',
      displayName: 'Ann',
      roles: ['a'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'ann@example.com',
      tenantId: 't1',
      status: 'active',
      provenance: 'admin',
    });
    const id = created.body.id as string;
    expect((await call('GET', `/users/${id}`)).body.displayName).toBe('Ann');
    expect((await call('PATCH', `/users/${id}`, { roles: ['a', 'b'] })).body.roles).toEqual([
      'a',
      'b',
    ]);

    const cases: [unknown, string][] = [
      [{ email: 'not-an-email' }, 'email'],
      [{ roles: ['ok', 5] }, 'roles[1]'],
      [{ status: 'banned' }, 'status'],
      [{ emial: 'x@y.z' }, 'emial'],
      [{ identities: [{ issuer: 'https://i' }] }, 'identities[0].subject'],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', '/users', body);
      expect([res.status, res.body.field]).toEqual([400, field]);
      expect(res.body.detail).toContain(field);
    }
    expect((await call('PATCH', `/users/${id}`, {})).status).toBe(400);
  });

  it('answers 409 for duplicates and 404 for unknown ids', async () => {
    await call('POST', '/users', {
      tenant: 'dup',
      email: 'dup@example.com',
      identities: [{ issuer: 'https://i', subject: 's1' }],
    });
    const dupEmail = await call('POST', '/users', { tenant: 'dup', email: 'DUP@example.com' });
    expect([dupEmail.status, dupEmail.body.field]).toEqual([409, 'email']);
    const dupLink = await call('POST', '/users', {
      tenant: 'dup',
      email: 'other@example.com',
      identities: [{ issuer: 'https://i', subject: 's1' }],
    });
    expect([dupLink.status, dupLink.body.field]).toEqual([409, 'identities']);
    // The failed create left nothing behind (one transaction).
    expect((await call('GET', '/users?tenant=dup&email=other@example.com')).body.users).toEqual([]);
    expect((await call('GET', '/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('POST', '/users/00000000-0000-4000-8000-000000000000/disable')).status).toBe(
      404,
    );
    const bad = await call('GET', '/users/not-a-uuid');
    expect([bad.status, bad.body.field]).toEqual([400, 'id']);
  });

  it('runs the lifecycle: disable, enable, lock, unlock, delete, restore, sign out', async () => {
    const { body } = await call('POST', '/users', { email: 'life@example.com' });
    const id = body.id as string;
    expect((await call('POST', `/users/${id}/disable`)).body.status).toBe('disabled');
    expect((await call('POST', `/users/${id}/enable`)).body.status).toBe('active');
    expect((await call('POST', `/users/${id}/lock`)).body.status).toBe('locked');
    expect((await call('POST', `/users/${id}/unlock`)).body.status).toBe('active');
    expect((await call('DELETE', `/users/${id}`)).body.deletedAt).toBeTruthy();
    expect((await call('GET', '/users?email=life@example.com')).body.users).toEqual([]);
    expect(
      (await call('GET', '/users?email=life@example.com&deleted=true')).body.users,
    ).toHaveLength(1);
    expect((await call('POST', `/users/${id}/restore`)).body.deletedAt).toBeNull();
    expect(
      Date.parse((await call('POST', `/users/${id}/sign-out`)).body.tokensValidAfter),
    ).toBeGreaterThan(Date.now() - 1000);
  });

  it('links, lists and unlinks external identities', async () => {
    const { body } = await call('POST', '/users', { email: 'links@example.com' });
    const link = await call('POST', `/users/${body.id}/identities`, {
      issuer: 'https://idp',
      subject: 'abc',
    });
    expect(link.status).toBe(201);
    expect((await call('GET', `/users/${body.id}/identities`)).body.identities).toEqual([
      expect.objectContaining({ issuer: 'https://idp', subject: 'abc', tenant: '' }),
    ]);
    expect((await call('DELETE', `/users/${body.id}/identities/${link.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/users/${body.id}/identities/${link.body.id}`)).status).toBe(404);
  });

  it('paginates with a cursor and filters', async () => {
    for (let i = 0; i < 5; i++)
      await call('POST', '/users', { tenant: 'page', email: `p${i}@example.com` });
    const first = await call('GET', '/users?tenant=page&limit=2');
    expect(first.body.users).toHaveLength(2);
    const second = await call('GET', `/users?tenant=page&limit=2&cursor=${first.body.nextCursor}`);
    const third = await call('GET', `/users?tenant=page&limit=2&cursor=${second.body.nextCursor}`);
    const emails = [...first.body.users, ...second.body.users, ...third.body.users].map(
      (u: any) => u.email,
    );
    expect(emails).toEqual([
      'p0@example.com',
      'p1@example.com',
      'p2@example.com',
      'p3@example.com',
      'p4@example.com',
    ]);
    expect(third.body.nextCursor).toBeUndefined();
    expect((await call('GET', '/users?limit=0')).body.field).toBe('limit');
    expect((await call('GET', '/users?cursor=garbage')).body.field).toBe('cursor');
  });

  it('revokes by jti and validates the request', async () => {
    const ok = await call('POST', '/tokens/revoke', {
      issuer: 'https://idp',
      jti: 'j1',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(ok.status).toBe(200);
    const bad = await call('POST', '/tokens/revoke', {
      issuer: 'https://idp',
      jti: 'j1',
      expiresAt: 'tomorrow',
    });
    expect([bad.status, bad.body.field]).toEqual([400, 'expiresAt']);
    // A deny-list entry that has already expired would protect nothing: refused, naming why.
    const past = await call('POST', '/tokens/revoke', {
      issuer: 'https://idp',
      jti: 'j2',
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect([past.status, past.body.field]).toEqual([400, 'expiresAt']);
    expect(past.body.detail).toContain('is in the past');
  });

  it('imports rows (dry run changes nothing), reporting created / updated / rejected', async () => {
    await call('POST', '/users', {
      tenant: 'imp',
      email: 'exists@example.com',
      displayName: 'Old',
    });
    const rows = [
      { tenant: 'imp', email: 'exists@example.com', displayName: 'New' },
      {
        tenant: 'imp',
        email: 'fresh@example.com',
        identities: [{ issuer: 'https://idp', tenant: 'imp', subject: 'fresh' }],
      },
      { tenant: 'imp', email: 'broken' },
    ];
    const dry = await call('POST', '/users/import', { rows, dryRun: true });
    expect(dry.body.results.map((r: any) => r.result)).toEqual(['updated', 'created', 'rejected']);
    expect(dry.body.results[2].error).toContain('email');
    expect((await call('GET', '/users?tenant=imp')).body.users).toHaveLength(1);
    const real = await call('POST', '/users/import', { rows });
    expect(real.body.results.map((r: any) => r.result)).toEqual(['updated', 'created', 'rejected']);
    const users = (await call('GET', '/users?tenant=imp')).body.users;
    expect(users.map((u: any) => [u.email, u.provenance, u.displayName])).toEqual([
      ['exists@example.com', 'admin', 'New'],
      ['fresh@example.com', 'import', null],
    ]);
  });
});
