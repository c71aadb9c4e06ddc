import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { eventually } from '../support/eventually';
import { IntrospectingAuthorizationServer } from '../support/introspection-server';
import { ResolverHarness } from '../support/resolver-harness';

const RESOURCE = 'https://api.introspection.test';
const SHORT = 'https://short-lived.introspection.test';
const ADMIN_TOKEN = 'admin-secret-for-introspection-tests-0123';
const CALLERS = ['caller-ok', 'caller-jti', 'caller-signout', 'caller-revoke', 'caller-flight'];

/**
 * Opaque tokens end to end (RFC 7662): two real authorisation servers (oidc-provider) issue
 * opaque access tokens, each with its own prefix, and serve introspection; the resolver routes a
 * token to its issuer by prefix, introspects it (client_secret_basic at one, private_key_jwt at
 * the other, client_secret_post from a second replica) and resolves it down the same pipeline
 * as a JWT: subject, lookup, status, jti deny-list, sign-out-everywhere. Every entry point:
 * POST /v1/resolve, gRPC ResolveSubject, forward-auth and diagnose.
 */
describe('opaque tokens introspected at a real authorisation server', () => {
  let a: IntrospectingAuthorizationServer;
  let b: IntrospectingAuthorizationServer;
  let app: ResolverHarness;
  let db: Pool;
  let databaseUrl: string;
  const ids: Record<string, string> = {};

  const issuerA = (introspection: Record<string, unknown>) => ({
    issuer: a.issuer,
    discovery: true,
    audiences: [RESOURCE, SHORT],
    algorithms: ['ES256'],
    serviceAccounts: { subEqualsClientId: true },
    introspection: { cacheCapSeconds: 2, ...introspection },
  });
  const basicA = {
    prefix: 'asa_',
    clientAuth: {
      method: 'client_secret_basic',
      clientId: 'rs-basic',
      clientSecretEnv: 'RS_BASIC_SECRET',
    },
  };
  const admin = (path: string, body?: unknown) =>
    app.http(`/admin/v1${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const diagnose = (token: string) =>
    app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });

  beforeAll(async () => {
    [a, b] = await Promise.all([
      IntrospectingAuthorizationServer.start({
        prefix: 'asa_',
        resource: RESOURCE,
        shortResource: SHORT,
        callers: CALLERS,
      }),
      IntrospectingAuthorizationServer.start({
        prefix: 'asb_',
        resource: RESOURCE,
        shortResource: SHORT,
        callers: CALLERS,
      }),
    ]);
    databaseUrl = await createTestDatabase('introspection');
    app = await ResolverHarness.start({
      databaseUrl,
      env: { ADMIN_TOKEN, RS_BASIC_SECRET: a.rs.basic.secret },
      issuers: [
        issuerA(basicA),
        {
          issuer: b.issuer,
          discovery: true,
          audiences: [RESOURCE],
          algorithms: ['ES256'],
          serviceAccounts: { subEqualsClientId: true },
          introspection: {
            prefix: 'asb_',
            // The endpoint from B's discovery document; the client authenticates by its key.
            clientAuth: {
              method: 'private_key_jwt',
              clientId: 'rs-jwt',
              privateKeyFile: b.rs.jwt.privateKeyFile,
              algorithm: 'ES256',
            },
            tokenTypeHint: 'access_token',
          },
        },
      ],
    });
    db = sqlPool(databaseUrl);
    for (const caller of CALLERS) {
      ids[caller] = await seedUser(db, a.issuer, { subject: caller, kind: 'service', email: null });
      await seedUser(db, b.issuer, { subject: caller, kind: 'service', email: null });
    }
    await eventually(
      'caches in use',
      async () => (await app.http('/health/ready')).body.details?.listener?.cachesInUse === true,
    );
  });

  afterAll(async () => {
    await Promise.all([app?.close(), db?.end(), a?.stop(), b?.stop()]);
  });

  it('resolves an active token on every surface, each issuer by its prefix and its own client authentication', async () => {
    const fromA = await a.token('caller-ok');
    const fromB = await b.token('caller-ok');
    expect([fromA.slice(0, 4), fromB.slice(0, 4)]).toEqual(['asa_', 'asb_']);

    const http = await app.resolveHttp({ token: fromA });
    expect([http.status, http.body.principal?.kind, http.body.token?.issuer]).toEqual([
      200,
      'service',
      a.issuer,
    ]);
    expect(http.body.token).toMatchObject({
      subject: 'caller-ok',
      audience: [RESOURCE],
      scopes: ['orders:read'],
    });
    expect(http.body.token.jti).toMatch(/^at-/);
    const viaB = await app.resolveHttp({ token: fromB });
    expect([viaB.status, viaB.body.token?.issuer]).toEqual([200, b.issuer]);

    const grpc = await app.resolveGrpc({ token: fromB });
    expect(grpc.ok && grpc.response.principal?.kind).toBe('service');
    const forward = await app.http('/v1/authz', { headers: { authorization: `Bearer ${fromA}` } });
    expect([forward.status, forward.headers.get('x-principal-kind')]).toEqual([200, 'service']);

    const d = await diagnose(fromA);
    const steps = Object.fromEntries(
      (d.body.steps as { step: string; status: string; details: Record<string, unknown> }[]).map(
        (s) => [s.step, s],
      ),
    );
    expect(d.body.verdict.reason).toBe('OK');
    expect(steps.introspection?.status).toBe('pass');
    expect(steps.introspection?.details).toMatchObject({
      issuer: a.issuer,
      clientAuth: 'client_secret_basic as rs-basic',
      active: true,
      cached: true,
      endpointReachable: true,
    });
    // The diagnosis shows the introspection answer, never the token.
    expect(JSON.stringify(d.body)).not.toContain(fromA);
    expect(JSON.stringify(d.body)).not.toContain(fromA.slice(4));
  });

  it('a token the AS never issued is TOKEN_INACTIVE on every surface', async () => {
    const garbage = 'asa_this-token-was-never-issued-by-the-authorization-server';
    const http = await app.resolveHttp({ token: garbage });
    expect([http.status, http.body.reason]).toEqual([401, 'TOKEN_INACTIVE']);
    const grpc = await app.resolveGrpc({ token: garbage });
    expect(!grpc.ok && grpc.reason).toBe('TOKEN_INACTIVE');
    expect(
      (await app.http('/v1/authz', { headers: { authorization: `Bearer ${garbage}` } })).status,
    ).toBe(401);
    const d = await diagnose(garbage);
    expect(d.body.verdict.reason).toBe('TOKEN_INACTIVE');
  });

  it('revoked at the AS: the cached answer serves only within the cache cap, then TOKEN_INACTIVE', async () => {
    const token = await a.token('caller-revoke');
    expect((await app.resolveHttp({ token })).status).toBe(200);
    const revokedAt = Date.now();
    await a.revoke('caller-revoke', token);
    // Within cacheCapSeconds (2 s) the resolver has not asked again.
    const cached = await app.resolveHttp({ token });
    if (Date.now() - revokedAt < 1_500)
      expect([cached.status, cached.body.source]).toEqual([200, 'CACHE']);
    let after = cached;
    await eventually(
      'refused once the cap has passed',
      async () => (after = await app.resolveHttp({ token })).status === 401,
      4_000,
      100,
    );
    expect(after.body.reason).toBe('TOKEN_INACTIVE');
    expect(Date.now() - revokedAt).toBeLessThan(4_000);
  });

  it('expired at the AS (a 2 s token): TOKEN_INACTIVE once its exp has passed', async () => {
    const token = await a.token('caller-ok', SHORT);
    expect((await app.resolveHttp({ token })).status).toBe(200);
    let after = await app.resolveHttp({ token });
    await eventually(
      'refused after exp',
      async () => (after = await app.resolveHttp({ token })).status === 401,
      5_000,
      100,
    );
    expect(after.body.reason).toBe('TOKEN_INACTIVE');
  });

  it('the jti deny-list and sign-out-everywhere apply to opaque tokens as to JWTs', async () => {
    const token = await a.token('caller-jti');
    const ok = await app.resolveHttp({ token });
    expect(ok.status).toBe(200);
    const revoke = await admin('/tokens/revoke', {
      issuer: a.issuer,
      jti: ok.body.token.jti,
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    });
    expect(revoke.status).toBe(200);
    await eventually(
      'jti revoked',
      async () => (await app.resolveHttp({ token })).body.reason === 'TOKEN_REVOKED',
    );

    const early = await a.token('caller-signout');
    expect((await app.resolveHttp({ token: early })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100)); // iat is in whole seconds
    expect((await admin(`/users/${ids['caller-signout']}/sign-out`)).status).toBe(200);
    await eventually(
      'signed out',
      async () => (await app.resolveHttp({ token: early })).body.reason === 'TOKEN_REVOKED',
    );
    // A token issued after the sign-out is accepted.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await app.resolveHttp({ token: await a.token('caller-signout') })).status).toBe(200);
  });

  it('single flight: 50 concurrent requests for a new token make one introspection call', async () => {
    const token = await a.token('caller-flight');
    const before = await a.introspections();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 ? app.resolveHttp({ token }) : app.resolveGrpc({ token }),
      ),
    );
    for (const answer of answers) expect('ok' in answer ? answer.ok : answer.status).toBeTruthy();
    expect(await a.introspections()).toBe(before + 1);
  });

  it('an opaque token no issuer introspects is refused without any outbound call', async () => {
    const before = [await a.introspections(), await b.introspections()];
    const refused = await app.resolveHttp({ token: 'zz_opaque-token-of-nobody' });
    expect([refused.status, refused.body.reason]).toEqual([401, 'TOKEN_MALFORMED']);
    expect([await a.introspections(), await b.introspections()]).toEqual(before);
  });

  it("signed answers (RFC 9701): the AS signs, the resolver verifies with the issuer's keys", async () => {
    const signed = await ResolverHarness.start({
      databaseUrl,
      env: { RS_BASIC_SECRET: a.rs.basic.secret },
      issuers: [issuerA({ ...basicA, signedResponses: true })],
    });
    try {
      // Only a verified application/token-introspection+jwt answer is read: a 200 proves it.
      const token = await a.token('caller-ok');
      const ok = await signed.resolveHttp({ token });
      expect([ok.status, ok.body.token?.subject]).toEqual([200, 'caller-ok']);
      const inactive = await signed.resolveHttp({ token: 'asa_never-issued-token' });
      expect(inactive.body.reason).toBe('TOKEN_INACTIVE');
    } finally {
      await signed.close();
    }
  });

  it('client_secret_post works; a wrong client secret is 503 INTROSPECTION_UNAVAILABLE naming the client auth, never 401', async () => {
    const lines: string[] = [];
    const post = await ResolverHarness.start({
      databaseUrl,
      env: { RS_POST_SECRET: a.rs.post.secret },
      issuers: [
        issuerA({
          clientAuth: {
            method: 'client_secret_post',
            clientId: 'rs-post',
            clientSecretEnv: 'RS_POST_SECRET',
          },
        }),
      ],
    });
    const wrong = await ResolverHarness.start({
      databaseUrl,
      env: { RS_BASIC_SECRET: 'not-the-secret' },
      config: { logging: { level: 'info' } },
      logDestination: { write: (line: string) => void lines.push(line) },
      issuers: [issuerA(basicA)],
    });
    try {
      const token = await a.token('caller-ok');
      expect((await post.resolveHttp({ token })).status).toBe(200);
      const refused = await wrong.resolveHttp({ token });
      expect([refused.status, refused.body.reason]).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
      expect(refused.headers.get('retry-after')).toBe('1');
      const grpc = await wrong.resolveGrpc({ token });
      expect(!grpc.ok && [grpc.code, grpc.reason]).toEqual([14, 'INTROSPECTION_UNAVAILABLE']);
      const logged = lines.join('\n');
      expect(logged).toContain('client_secret_basic as rs-basic');
      expect(logged).not.toContain(token);
      expect(logged).not.toContain('not-the-secret');
    } finally {
      await Promise.all([post.close(), wrong.close()]);
    }
  });
});
