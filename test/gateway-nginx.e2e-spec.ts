import { Pool } from 'pg';
import { ExtAuthzClient } from './support/ext-authz-client';
import { seedUser } from './support/gateway-fixtures';
import { JwksServer } from './support/jwks-server';
import { NginxGateway } from './support/nginx-gateway';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';
import { OwnPostgres } from './support/own-postgres';

const AUD = 'api://nginx-gateway';
const ISSUER = 'https://nginx.idp.test';

/**
 * A real Nginx (Debian package) running docker/nginx/nginx.conf (addresses rewritten to
 * loopback) in front of an echo backend, with the resolver's /v1/authz as its auth_request.
 * The suite owns its Postgres so it can stop it: an outage must reach the client as 503.
 */
describe('Nginx auth_request gateway (docker/nginx/nginx.conf) in front of a backend', () => {
  let pg: OwnPostgres;
  let db: Pool;
  let idp: JwksServer;
  let keys: TokenFactory;
  let otherKeys: TokenFactory;
  let app: ResolverHarness;
  let nginx: NginxGateway;
  let extAuthz: ExtAuthzClient;
  const ids: Record<string, string> = {};
  const now = () => Math.floor(Date.now() / 1000);
  const token = (sub: string, signer?: TokenFactory) =>
    (signer ?? keys).sign(
      claimsFor(ISSUER, AUD, now(), { sub, client_id: sub === 'robot' ? 'robot' : 'web-app' }),
    );
  const through = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${nginx.url}${path}`, { method, headers });

  beforeAll(async () => {
    pg = await OwnPostgres.start('nginx-pg');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('nginx');
    otherKeys = await TokenFactory.create('nginx-other');
    const jwksUri = idp.publishJwks('nginx', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl: pg.url,
      config: { database: { retryAttempts: 1, connectTimeoutMs: 500, statementTimeoutMs: 1000 } },
      issuers: [
        {
          issuer: ISSUER,
          jwksUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          serviceAccounts: { subEqualsClientId: true },
        },
      ],
    });
    db = new Pool({ connectionString: pg.url, max: 1 });
    ids.alice = await seedUser(db, ISSUER, { subject: 'alice', roles: ['admin', 'ops'] });
    ids.robot = await seedUser(db, ISSUER, { subject: 'robot', kind: 'service', email: null });
    ids.barred = await seedUser(db, ISSUER, { subject: 'barred', status: 'disabled' });
    await db.end();
    nginx = await NginxGateway.start(app.url);
    extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
  });

  afterAll(async () => {
    extAuthz?.close();
    await nginx?.stop();
    await app?.close();
    await pg?.destroy();
    await idp?.stop();
  });

  it('forwards a valid token to the backend with the identity headers', async () => {
    const before = nginx.received.length;
    const res = await through('/orders/42?expand=items', {
      authorization: `Bearer ${await token('alice')}`,
    });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/orders/42?expand=items');
    expect(echoed.headers).toMatchObject({
      'x-user-id': ids.alice,
      'x-user-email': 'alice@example.com',
      'x-user-roles': 'admin,ops',
      'x-principal-kind': 'user',
    });
    // No tenant for this issuer: the header is left out, not sent empty.
    expect(echoed.headers['x-tenant-id']).toBeUndefined();
    expect(nginx.received.length).toBe(before + 1);
  });

  it('never lets a client-sent identity header reach the backend', async () => {
    const spoofed = {
      'x-user-id': 'attacker',
      'x-user-email': 'ceo@example.com',
      'x-tenant-id': 'other-tenant',
      'x-user-roles': 'superuser',
      'x-principal-kind': 'user',
      'x-identity-assertion': 'forged.assertion.value',
    };
    const alice = await through('/a', {
      ...spoofed,
      authorization: `Bearer ${await token('alice')}`,
    });
    const aliceSeen = ((await alice.json()) as { headers: Record<string, string> }).headers;
    expect(aliceSeen['x-user-id']).toBe(ids.alice);
    expect(aliceSeen['x-user-roles']).toBe('admin,ops');
    expect(aliceSeen['x-tenant-id']).toBeUndefined();

    // A service principal has no email, tenant or roles: the client's copies must not fill in.
    const robot = await through('/b', {
      ...spoofed,
      authorization: `Bearer ${await token('robot')}`,
    });
    const robotSeen = ((await robot.json()) as { headers: Record<string, string> }).headers;
    expect(robotSeen['x-user-id']).toBe(ids.robot);
    expect(robotSeen['x-principal-kind']).toBe('service');
    for (const h of ['x-user-email', 'x-tenant-id', 'x-user-roles', 'x-identity-assertion'])
      expect(robotSeen[h]).toBeUndefined();

    const all = JSON.stringify(nginx.received.map((r) => r.headers));
    expect(all).not.toContain('attacker');
    expect(all).not.toContain('ceo@example.com');
    expect(all).not.toContain('superuser');
    expect(all).not.toContain('forged.assertion.value');
  });

  it('answers 401 with WWW-Authenticate for a bad or missing token, without reaching the backend', async () => {
    const before = nginx.received.length;
    const forged = await through('/orders', {
      authorization: `Bearer ${await token('alice', otherKeys)}`,
      'x-user-id': 'attacker',
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toBe(
      'Bearer realm="subject-resolver", error="invalid_token"',
    );
    const missing = await through('/orders', {}, 'POST');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="subject-resolver"');
    expect(nginx.received.length).toBe(before);
  });

  it('answers 403 for a disabled user, without reaching the backend', async () => {
    const before = nginx.received.length;
    const res = await through('/orders', { authorization: `Bearer ${await token('barred')}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.text()).not.toContain('USER_DISABLED');
    expect(nginx.received.length).toBe(before);
  });

  it('answers 503 (not 401) while the database is stopped, over nginx and ext_authz', async () => {
    const known = await token('alice');
    expect((await through('/ok', { authorization: `Bearer ${known}` })).status).toBe(200);
    const before = nginx.received.length;
    await pg.stop();

    for (const sub of ['alice', 'never-seen']) {
      const res = await through('/orders', { authorization: `Bearer ${await token(sub)}` });
      expect([sub, res.status]).toEqual([sub, 503]);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
    expect(nginx.received.length).toBe(before);

    const check = await extAuthz.check({
      authorization: `Bearer ${known}`,
      'x-user-id': 'attacker',
    });
    expect(check.status.code).toBe(14);
    expect(check.deniedResponse.status.code).toBe('ServiceUnavailable');
    expect(check.okResponse).toBeUndefined();

    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /reason="USER_STORE_UNAVAILABLE",issuer="https:\/\/nginx.idp.test",transport="forward_auth"\} [1-9]/,
    );
  });
});
