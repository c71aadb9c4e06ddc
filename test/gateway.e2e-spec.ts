import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Pool } from 'pg';
import { createTestDatabase, sqlPool } from './support/database';
import { ExtAuthzClient } from './support/ext-authz-client';
import { IDENTITY_HEADERS, seedUser } from './support/gateway-fixtures';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';

const AUD = 'api://gateway-test';
const ISSUER = 'https://gw.idp.test';
const headerMap = (options: { header: { key: string; value: string } }[]) =>
  Object.fromEntries(options.map((o) => [o.header.key, o.header.value]));

/**
 * The gateway-facing answers on the real app: forward-auth (`/v1/authz`, HTTP) and Envoy's
 * ext_authz (`envoy.service.auth.v3.Authorization/Check`, gRPC), with the default settings and
 * with the reason header and the signed identity assertion switched on.
 */
describe('gateway answers: forward-auth and ext_authz', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let otherKeys: TokenFactory;
  let db: Pool;
  let app: ResolverHarness;
  let loud: ResolverHarness;
  let extAuthz: ExtAuthzClient;
  let loudExtAuthz: ExtAuthzClient;
  const ids: Record<string, string> = {};
  const now = () => Math.floor(Date.now() / 1000);
  const token = (sub: string, signer?: TokenFactory) =>
    (signer ?? keys).sign(
      claimsFor(ISSUER, AUD, now(), {
        sub,
        tid: 'acme',
        client_id: sub === 'robot' ? 'robot' : 'web-app',
      }),
    );
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await token(sub)}` });

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('gw');
    otherKeys = await TokenFactory.create('gw-other');
    const jwksUri = idp.publishJwks('gw', keys.publicJwks());
    const databaseUrl = await createTestDatabase('gateway');
    const issuers = [
      {
        issuer: ISSUER,
        jwksUri,
        audiences: [AUD],
        algorithms: ['RS256'],
        tenant: { claim: 'tid', required: true },
        // The robot's tokens are client-credentials tokens (sub = client_id): a service principal.
        serviceAccounts: { subEqualsClientId: true },
      },
    ];
    app = await ResolverHarness.start({ databaseUrl, issuers });
    loud = await ResolverHarness.start({
      databaseUrl,
      issuers,
      config: {
        authz: {
          exposeReasonHeader: true,
          assertion: { enabled: true, audience: 'backend.orders', ttlSeconds: 30 },
        },
      },
    });
    db = sqlPool(databaseUrl);
    ids.alice = await seedUser(db, ISSUER, {
      subject: 'alice',
      tenant: 'acme',
      roles: ['admin', 'billing,ops'],
    });
    ids.robot = await seedUser(db, ISSUER, {
      subject: 'robot',
      tenant: 'acme',
      kind: 'service',
      email: null,
    });
    ids.barred = await seedUser(db, ISSUER, {
      subject: 'barred',
      tenant: 'acme',
      status: 'disabled',
    });
    extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
    loudExtAuthz = new ExtAuthzClient(loud.resolver.grpcAddress);
  });

  afterAll(async () => {
    extAuthz?.close();
    loudExtAuthz?.close();
    await app?.close();
    await loud?.close();
    await db?.end();
    await idp?.stop();
  });

  describe('forward-auth /v1/authz', () => {
    it("a cached user's answer follows a change to that user at once (the answer is kept per cached record)", async () => {
      const id = await seedUser(db, ISSUER, { subject: 'memo', tenant: 'acme', roles: ['before'] });
      const roles = async () =>
        (await app.http('/v1/authz', { headers: await bearer('memo') })).headers.get(
          'x-user-roles',
        );
      expect(await roles()).toBe('before');
      expect(await roles()).toBe('before'); // from the caches now
      await db.query(`UPDATE users SET roles = '{after}' WHERE id = $1`, [id]);
      const deadline = Date.now() + 2_000;
      let seen = await roles();
      while (seen !== 'after' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        seen = await roles();
      }
      expect(seen).toBe('after');
    });

    it('answers 200 with the identity headers, for any method and sub-path', async () => {
      for (const [method, path] of [
        ['GET', '/v1/authz'],
        ['POST', '/v1/authz/orders/42?expand=items'],
        ['DELETE', '/v1/authz/a/b/c'],
      ] as const) {
        const res = await app.http(path, {
          method,
          headers: {
            ...(await bearer('alice')),
            'x-forwarded-method': 'PUT',
            'x-forwarded-uri': '/orders/42',
            'x-forwarded-host': 'api.example.test',
            'x-user-id': 'spoofed',
          },
        });
        expect([method, res.status]).toEqual([method, 200]);
        expect(res.headers.get('x-user-id')).toBe(ids.alice);
        expect(res.headers.get('x-user-email')).toBe('alice@example.com');
        expect(res.headers.get('x-tenant-id')).toBe('acme');
        expect(res.headers.get('x-user-roles')).toBe('admin,billing%2Cops');
        expect(res.headers.get('x-principal-kind')).toBe('user');
        expect(res.headers.get('x-envoy-auth-headers-to-remove')).toBeNull();
        expect(res.headers.get('x-identity-assertion')).toBeNull();
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    });

    it('leaves out empty identity values and tells Envoy to strip client copies of them', async () => {
      const res = await app.http('/v1/authz', { headers: await bearer('robot') });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-user-id')).toBe(ids.robot);
      expect(res.headers.get('x-principal-kind')).toBe('service');
      expect(res.headers.get('x-user-email')).toBeNull();
      expect(res.headers.get('x-user-roles')).toBeNull();
      expect(res.headers.get('x-envoy-auth-headers-to-remove')).toBe('x-user-email,x-user-roles');
    });

    it('refuses with 401 + WWW-Authenticate, 403 for barred users, with a generic body', async () => {
      const missing = await app.http('/v1/authz');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="subject-resolver"');

      const forged = await app.http('/v1/authz/x', {
        headers: { authorization: `Bearer ${await token('alice', otherKeys)}` },
      });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('www-authenticate')).toBe(
        'Bearer realm="subject-resolver", error="invalid_token"',
      );
      expect(forged.body).toBe('Unauthorized\n');

      const barred = await app.http('/v1/authz', {
        method: 'POST',
        headers: await bearer('barred'),
      });
      expect(barred.status).toBe(403);
      expect(barred.body).toBe('Forbidden\n');
      expect(barred.headers.get('www-authenticate')).toBeNull();

      for (const res of [missing, forged, barred]) {
        expect(res.headers.get('x-auth-reason')).toBeNull();
        for (const h of IDENTITY_HEADERS) expect(res.headers.get(h)).toBeNull();
        expect(JSON.stringify(res.body)).not.toMatch(/SIGNING_KEY|USER_DISABLED|TOKEN_MISSING/);
      }
    });

    it('counts under transport="forward_auth"', async () => {
      await app.http('/v1/authz', { headers: await bearer('barred') });
      const metrics = (await app.http('/metrics')).body as string;
      expect(metrics).toMatch(
        /resolver_resolutions_total\{outcome="refused",reason="USER_DISABLED",issuer="https:\/\/gw.idp.test",transport="forward_auth"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /resolver_resolutions_total\{outcome="resolved",reason="NONE",issuer="https:\/\/gw.idp.test",transport="forward_auth"\} [1-9]/,
      );
    });

    it('puts the reason in the configured header only when asked to', async () => {
      const res = await loud.http('/v1/authz', { headers: await bearer('barred') });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-auth-reason')).toBe('USER_DISABLED');
      expect(res.body).toBe('Forbidden\n');
    });
  });

  describe('ext_authz envoy.service.auth.v3.Authorization/Check', () => {
    it('allows with identity headers that overwrite spoofed copies, removing the rest', async () => {
      const res = await extAuthz.check({
        authorization: `Bearer ${await token('alice')}`,
        'x-user-id': 'attacker',
        'x-user-roles': 'admin',
      });
      expect(res.status.code).toBe(0);
      expect(res.deniedResponse).toBeUndefined();
      expect(res.httpResponse).toBe('okResponse');
      expect(headerMap(res.okResponse.headers)).toEqual({
        'x-user-id': ids.alice,
        'x-user-email': 'alice@example.com',
        'x-tenant-id': 'acme',
        'x-user-roles': 'admin,billing%2Cops',
        'x-principal-kind': 'user',
      });
      for (const option of res.okResponse.headers) expect(option.append).toEqual({ value: false });
      expect(res.okResponse.headersToRemove).toEqual([]);

      const robot = await extAuthz.check({
        authorization: `Bearer ${await token('robot')}`,
        'x-user-email': 'ceo@example.com',
      });
      expect(robot.status.code).toBe(0);
      expect(headerMap(robot.okResponse.headers)['x-user-email']).toBeUndefined();
      expect(robot.okResponse.headersToRemove).toEqual(['x-user-email', 'x-user-roles']);
    });

    it('denies with Envoy-shaped 401/403 answers and the matching gRPC status', async () => {
      const forged = await extAuthz.check({
        authorization: `Bearer ${await token('alice', otherKeys)}`,
        'x-user-id': 'attacker',
      });
      expect(forged.status.code).toBe(16);
      expect(forged.okResponse).toBeUndefined();
      expect(forged.httpResponse).toBe('deniedResponse');
      expect(forged.deniedResponse.status.code).toBe('Unauthorized');
      expect(headerMap(forged.deniedResponse.headers)['www-authenticate']).toBe(
        'Bearer realm="subject-resolver", error="invalid_token"',
      );
      expect(forged.deniedResponse.body).toBe('Unauthorized\n');

      const missing = await extAuthz.check({});
      expect(missing.status.code).toBe(16);
      expect(headerMap(missing.deniedResponse.headers)['www-authenticate']).toBe(
        'Bearer realm="subject-resolver"',
      );

      const barred = await extAuthz.check({ authorization: `Bearer ${await token('barred')}` });
      expect(barred.status.code).toBe(7);
      expect(barred.deniedResponse.status.code).toBe('Forbidden');
      expect(barred.deniedResponse.body).toBe('Forbidden\n');

      for (const res of [forged, missing, barred]) {
        expect(headerMap(res.deniedResponse.headers)['x-auth-reason']).toBeUndefined();
        expect(JSON.stringify(res)).not.toMatch(/SIGNING_KEY|USER_DISABLED|TOKEN_MISSING/);
      }

      const loudBarred = await loudExtAuthz.check({
        authorization: `Bearer ${await token('barred')}`,
      });
      expect(headerMap(loudBarred.deniedResponse.headers)['x-auth-reason']).toBe('USER_DISABLED');
      expect(loudBarred.dynamicMetadata).toEqual({
        fields: { reason: { stringValue: 'USER_DISABLED', kind: 'stringValue' } },
      });
      expect(barred.dynamicMetadata).toBeNull();

      const metrics = (await app.http('/metrics')).body as string;
      expect(metrics).toMatch(
        /reason="USER_DISABLED",issuer="[^"]+",transport="ext_authz"\} [1-9]/,
      );
    });
  });

  describe('signed identity assertion', () => {
    it('is added on allow and verifies against the published JWKS with jose', async () => {
      const http = await loud.http('/v1/authz', { headers: await bearer('alice') });
      expect(http.status).toBe(200);
      const assertion = http.headers.get('x-identity-assertion');
      expect(assertion).toEqual(expect.any(String));

      // A backend: fetch the resolver's JWKS, verify issuer, audience, signature and lifetime.
      const jwks = createRemoteJWKSet(new URL(`${loud.url}/.well-known/resolver-jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(assertion as string, jwks, {
        issuer: 'urn:subject-resolver',
        audience: 'backend.orders',
        algorithms: ['ES256'],
        maxTokenAge: 60,
      });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload).toMatchObject({
        sub: ids.alice,
        kind: 'user',
        tenant: 'acme',
        email: 'alice@example.com',
        roles: ['admin', 'billing,ops'],
        src: { iss: ISSUER, sub: 'alice' },
      });
      expect((payload.exp as number) - (payload.iat as number)).toBe(30);

      // Signed by this resolver only: the default app's (absent) JWKS does not vouch for it,
      // and a tampered payload fails.
      expect((await app.http('/.well-known/resolver-jwks.json')).status).toBe(404);
      const [h, , s] = (assertion as string).split('.');
      const forgedPayload = Buffer.from(
        JSON.stringify({ ...decodeJwt(assertion as string), sub: ids.barred }),
      ).toString('base64url');
      const published = (await loud.http('/.well-known/resolver-jwks.json')).body;
      await expect(
        jwtVerify(`${h}.${forgedPayload}.${s}`, createLocalJWKSet(published), {
          issuer: 'urn:subject-resolver',
          audience: 'backend.orders',
        }),
      ).rejects.toThrow(/signature/);

      const grpc = await loudExtAuthz.check({ authorization: `Bearer ${await token('alice')}` });
      const fromEnvoy = headerMap(grpc.okResponse.headers)['x-identity-assertion'] ?? '';
      const verified = await jwtVerify(fromEnvoy, createLocalJWKSet(published), {
        issuer: 'urn:subject-resolver',
        audience: 'backend.orders',
      });
      expect(verified.payload.sub).toBe(ids.alice);
    });

    it('is never added to a refusal', async () => {
      const res = await loud.http('/v1/authz', { headers: await bearer('barred') });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-identity-assertion')).toBeNull();
    });
  });
});
