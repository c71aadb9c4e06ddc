import { Client, type Pool } from 'pg';
import { TokenVerifier } from '@resolver/tokens';
import { createTestDatabase, sqlPool } from './support/database';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { ResolverProcess } from './support/resolver-process';
import { claimsFor, TokenFactory } from './support/token-factory';

const AUD = 'api://consistency';
const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';
const ISS = 'https://consistency.idp.test';
const TENANT_ISS = 'https://tenants.idp.test';
const EMAIL_TENANT_ISS = 'https://email-tenants.idp.test';
const SVC_ISS = 'https://svc.idp.test';
const SVC_SUB_ISS = 'https://svc-sub.idp.test';

/** Polls `check` until it holds or `ms` pass; returns how long it took (or throws). */
async function within<T>(
  ms: number,
  probe: () => Promise<T>,
  check: (v: T) => boolean,
): Promise<number> {
  const start = Date.now();
  let last: T | undefined;
  while (Date.now() - start <= ms) {
    last = await probe();
    if (check(last)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${ms} ms; last: ${JSON.stringify(last)}`);
}

describe('caches that never lie (two replicas on one database)', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let a: ResolverHarness;
  let b: ResolverProcess;
  let db: Pool;
  let databaseUrl: string;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (overrides: Record<string, unknown>, issuer = ISS) =>
    keys.sign(claimsFor(issuer, AUD, now(), overrides));
  const admin = (method: string, path: string, body?: unknown) =>
    a.http(`/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const resolveOnB = async (t: string) => {
    const res = await fetch(`${b.url}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}` },
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('consistency');
    const jwksUri = idp.publishJwks('c', keys.publicJwks());
    databaseUrl = await createTestDatabase('consistency');
    db = sqlPool(databaseUrl);
    const base = { jwksUri, audiences: [AUD], algorithms: ['RS256'] };
    const issuers = [
      { ...base, issuer: ISS },
      { ...base, issuer: TENANT_ISS, tenant: { claim: 'tid' }, jit: { enabled: true } },
      {
        ...base,
        issuer: EMAIL_TENANT_ISS,
        tenant: { claim: 'tid' },
        subject: { claim: 'email', lookup: 'email' },
      },
      {
        ...base,
        issuer: SVC_ISS,
        serviceAccounts: { when: { claim: 'gty', equals: 'client-credentials' }, jit: true },
        jit: { enabled: true, requiredClaims: ['email'] },
      },
      { ...base, issuer: SVC_SUB_ISS, serviceAccounts: { subEqualsClientId: true } },
    ];
    a = await ResolverHarness.start({ databaseUrl, issuers, env: { ADMIN_TOKEN } });
    b = await ResolverProcess.start(databaseUrl, { issuers });
  });

  afterAll(async () => {
    await a?.close();
    await b?.stop();
    await db?.end();
    await idp?.stop();
  });

  async function userWithToken(subject: string, extra: Record<string, unknown> = {}) {
    const created = await admin('POST', '/users', {
      email: `${subject}@example.com`,
      roles: ['reader'],
      identities: [{ issuer: ISS, subject }],
      ...extra,
    });
    expect(created.status).toBe(201);
    const t = await token({ sub: subject, jti: `jti-${subject}` });
    // Warm both replicas' caches.
    expect((await a.resolveHttp({ token: t })).status).toBe(200);
    expect((await resolveOnB(t)).status).toBe(200);
    // The create's own notification may land just after B cached the user: poll, bounded.
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.source === 'CACHE',
    );
    return { id: created.body.id as string, token: t };
  }

  it('answers a repeated token for a cached user with no crypto and no SQL', async () => {
    const { token: t } = await userWithToken('fast');
    const issuer = a.resolver.app.get(TokenVerifier).issuer(ISS);
    if (!issuer) throw new Error('issuer missing');
    // Every statement this process sends, through TypeORM or straight on its pool.
    const queries = jest.spyOn(Client.prototype, 'query');
    // The signature check is the crypto: every verification path goes through it.
    const verifications = jest.spyOn(issuer, 'checkSignature');
    try {
      for (let i = 0; i < 5; i++) {
        const res = await a.resolveGrpc({ token: t });
        expect(res.ok && res.response.source).toBe('CACHE');
      }
      expect(queries).not.toHaveBeenCalled();
      expect(verifications).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
      verifications.mockRestore();
    }
  });

  it('concurrent misses for one key share one store query (single flight)', async () => {
    await admin('POST', '/users', {
      email: 'flight@example.com',
      identities: [{ issuer: ISS, subject: 'flight' }],
    });
    const t = await token({ sub: 'flight' });
    const queries = jest.spyOn(Client.prototype, 'query');
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => a.resolveHttp({ token: t })),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      const lookups = queries.mock.calls.filter(([sql]) =>
        (typeof sql === 'string' ? sql : ((sql as { text?: string })?.text ?? '')).includes(
          'FROM external_identities e JOIN users u',
        ),
      );
      expect(lookups).toHaveLength(1);
    } finally {
      queries.mockRestore();
    }
  });

  it.each([
    ['disabled through the admin API of A', 'admin', 'USER_DISABLED'],
    ['disabled with plain SQL', 'sql-disable', 'USER_DISABLED'],
    ['deleted through the admin API', 'admin-delete', 'USER_DELETED'],
    ['deleted with plain SQL (row removed)', 'sql-delete', 'USER_NOT_FOUND'],
    ['jti revoked through the admin API', 'admin-revoke', 'TOKEN_REVOKED'],
    ['jti revoked with plain SQL', 'sql-revoke', 'TOKEN_REVOKED'],
    ['signed out everywhere', 'admin-signout', 'TOKEN_REVOKED'],
  ])('B refuses a cached token within 1 s when the user is %s', async (_name, how, reason) => {
    const subject = `c-${how}`;
    const { id, token: t } = await userWithToken(subject);
    switch (how) {
      case 'admin':
        expect((await admin('POST', `/users/${id}/disable`)).status).toBe(200);
        break;
      case 'sql-disable':
        await db.query(`UPDATE users SET status = 'disabled' WHERE id = $1`, [id]);
        break;
      case 'admin-delete':
        expect((await admin('DELETE', `/users/${id}`)).status).toBe(200);
        break;
      case 'sql-delete':
        await db.query('DELETE FROM users WHERE id = $1', [id]);
        break;
      case 'admin-revoke':
        expect(
          (
            await admin('POST', '/tokens/revoke', {
              issuer: ISS,
              jti: `jti-${subject}`,
              expiresAt: new Date(Date.now() + 3600_000).toISOString(),
            })
          ).status,
        ).toBe(200);
        break;
      case 'sql-revoke':
        await db.query(
          `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
          [ISS, `jti-${subject}`],
        );
        break;
      case 'admin-signout':
        expect((await admin('POST', `/users/${id}/sign-out`)).status).toBe(200);
        break;
    }
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.reason === reason,
    );
    expect((await a.resolveHttp({ token: t })).body.reason).toBe(reason);
  });

  it('B answers a changed role within 1 s', async () => {
    const { id, token: t } = await userWithToken('roles');
    await db.query(`UPDATE users SET roles = '{writer}' WHERE id = $1`, [id]);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.principal?.roles?.[0] === 'writer',
    );
  });

  it('after sign-out everywhere, a token issued later still works', async () => {
    const { id } = await userWithToken('signout-later');
    expect((await admin('POST', `/users/${id}/sign-out`)).status).toBe(200);
    // Sign-out takes effect from the next whole second; a token minted after it carries a later iat.
    const fresh = await keys.sign(
      claimsFor(ISS, AUD, now(), { sub: 'signout-later', iat: now() + 2 }),
    );
    const res = await a.resolveHttp({ token: fresh });
    expect(res.status).toBe(200);
  });

  it('a user created after a "not found" is seen at once (negative cache invalidated)', async () => {
    const t = await token({ sub: 'late' });
    expect((await a.resolveHttp({ token: t })).body.reason).toBe('USER_NOT_FOUND');
    expect((await resolveOnB(t)).body.reason).toBe('USER_NOT_FOUND');
    await admin('POST', '/users', {
      email: 'late@example.com',
      identities: [{ issuer: ISS, subject: 'late' }],
    });
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.status === 200,
    );
  });

  it('on a lost LISTEN connection, caches are bypassed, then trusted again after reconnecting', async () => {
    const { id, token: t } = await userWithToken('listener');
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'subject-resolver-listener' AND datname = current_database()`,
    );
    // A change made while the replicas may be deaf is still seen (caches flushed and bypassed).
    await db.query(`UPDATE users SET status = 'locked' WHERE id = $1`, [id]);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.reason === 'USER_LOCKED',
    );
    await db.query(`UPDATE users SET status = 'active' WHERE id = $1`, [id]);
    await within(
      5000,
      async () => (await a.http('/health/ready')).body.details?.listener,
      (l) => l?.cachesInUse === true && l.reconnects >= 1,
    );
    await within(
      5000,
      () => resolveOnB(t),
      (r) => r.body.source === 'CACHE',
    );
    expect((await a.http('/metrics')).body).toMatch(/resolver_listener_up 1/);
  });

  it('admin flush empties every replica’s caches', async () => {
    const { token: t } = await userWithToken('flush');
    expect((await admin('POST', '/caches/flush')).status).toBe(202);
    await within(
      1000,
      () => resolveOnB(t),
      (r) => r.body.source === 'STORE',
    );
  });

  describe('tenants', () => {
    it('the same sub in two tenants is two users; JIT in tenant B never returns tenant A’s user', async () => {
      const ua = await admin('POST', '/users', {
        tenant: 'acme',
        email: 'x@acme.test',
        identities: [{ issuer: TENANT_ISS, tenant: 'acme', subject: 'x' }],
      });
      const ta = await token({ sub: 'x', tid: 'acme' }, TENANT_ISS);
      const tb = await token({ sub: 'x', tid: 'globex' }, TENANT_ISS);
      const rb = await a.resolveHttp({ token: tb });
      expect(rb.body.source).toBe('PROVISIONED');
      expect(rb.body.principal.tenantId).toBe('globex');
      expect(rb.body.principal.id).not.toBe(ua.body.id);
      const ra = await a.resolveHttp({ token: ta });
      expect(ra.body.principal.id).toBe(ua.body.id);
      expect((await a.resolveHttp({ token: tb })).body.principal.id).toBe(rb.body.principal.id);
    });

    it('an email-lookup user of tenant A never resolves for a tenant-B token, in either direction', async () => {
      await admin('POST', '/users', { tenant: 'a', email: 'shared@example.com' });
      await admin('POST', '/users', { tenant: 'b', email: 'only-b@example.com' });
      const aOk = await a.resolveHttp({
        token: await token({ email: 'shared@example.com', tid: 'a' }, EMAIL_TENANT_ISS),
      });
      expect(aOk.body.principal.tenantId).toBe('a');
      expect(
        (
          await a.resolveHttp({
            token: await token({ email: 'shared@example.com', tid: 'b' }, EMAIL_TENANT_ISS),
          })
        ).body.reason,
      ).toBe('USER_NOT_FOUND');
      expect(
        (
          await a.resolveHttp({
            token: await token({ email: 'only-b@example.com', tid: 'a' }, EMAIL_TENANT_ISS),
          })
        ).body.reason,
      ).toBe('USER_NOT_FOUND');
    });
  });

  describe('service accounts', () => {
    it('client-credentials tokens resolve to service principals by client id, provisioned if the rule allows', async () => {
      const t = await token(
        { sub: 'svc-sub-1', client_id: 'billing-worker', gty: 'client-credentials' },
        SVC_ISS,
      );
      const first = await a.resolveHttp({ token: t });
      expect(first.status).toBe(200);
      expect(first.body.principal).toMatchObject({
        kind: 'service',
        displayName: 'billing-worker',
      });
      expect(first.body.token.subject).toBe('billing-worker');
      const again = await a.resolveGrpc({ token: t });
      expect(again.ok && again.response.principal.kind).toBe('service');
    });

    it('a user token never resolves to a service principal, nor the reverse', async () => {
      await admin('POST', '/users', {
        kind: 'service',
        displayName: 'reports',
        identities: [{ issuer: SVC_SUB_ISS, subject: 'reports' }],
      });
      const svc = await token({ sub: 'reports', client_id: 'reports' }, SVC_SUB_ISS);
      expect((await a.resolveHttp({ token: svc })).body.principal.kind).toBe('service');
      const person = await token({ sub: 'reports', client_id: 'some-spa' }, SVC_SUB_ISS);
      expect((await a.resolveHttp({ token: person })).body.reason).toBe('USER_NOT_FOUND');
      const unknownSvc = await token({ sub: 'cron', client_id: 'cron' }, SVC_SUB_ISS);
      expect((await a.resolveHttp({ token: unknownSvc })).body.reason).toBe('USER_NOT_FOUND');
    });
  });
});
