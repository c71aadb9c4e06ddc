import { Client } from 'pg';
import { SubjectCaches } from '@resolver/resolution';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';
import { seedUser, sqlPool } from './support/database';
import { OwnPostgres } from './support/own-postgres';

const AUD = 'api://diagnose-outage';
const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';
const ISS = 'https://diagnose-outage.idp.test';

/**
 * Diagnosis while the user store is down: the store step fails with its latency and a fix, the
 * verdict is USER_STORE_UNAVAILABLE (never USER_NOT_FOUND). Owns its Postgres so it can stop it.
 */
describe('diagnose: user store unreachable', () => {
  let pg: OwnPostgres;
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;

  const counts = async () => {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM external_identities) AS ids,
              (SELECT string_agg(id || '@' || updated_at::text, ',' ORDER BY id) FROM users) AS updated`,
    );
    await client.end();
    return rows[0];
  };

  beforeAll(async () => {
    pg = await OwnPostgres.start('diag-outage');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('diag-outage');
    const jwksUri = idp.publishJwks('o', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl: pg.url,
      env: { ADMIN_TOKEN },
      config: { database: { retryAttempts: 1, retryBackoffMs: 20, connectTimeoutMs: 500 } },
      issuers: [
        { issuer: ISS, jwksUri, audiences: [AUD], algorithms: ['RS256'], jit: { enabled: true } },
      ],
    });
    const db = sqlPool(pg.url);
    await seedUser(db, ISS, { subject: 'kept', email: 'kept@example.com' });
    await db.end();
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
    await idp?.stop();
  });

  it('fails the store step with latency and a fix; the verdict is USER_STORE_UNAVAILABLE', async () => {
    const now = Math.floor(Date.now() / 1000);
    // A subject that does not exist and would be provisioned: still not "not found" or JIT.
    const token = await keys.sign(claimsFor(ISS, AUD, now, { sub: 'never-seen' }));
    const rows = await counts();
    await pg.stop();
    const caches = app.resolver.app.get(SubjectCaches);
    const sizes = caches.sizes();

    const res = await app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(200);
    const step = (name: string) => res.body.steps.find((s: any) => s.step === name);
    expect(res.body.verdict).toMatchObject({
      reason: 'USER_STORE_UNAVAILABLE',
      outcome: 'unavailable',
      httpStatus: 503,
    });
    expect(step('store').status).toBe('fail');
    expect(step('store').finding).toMatch(/unreachable after \d+ ms: USER_STORE_UNAVAILABLE/);
    expect(step('store').details.latencyMs).toEqual(expect.any(Number));
    expect(step('store').fix).toContain('never "not found"');
    expect(step('user').status).toBe('skip');
    expect(step('signature').status).toBe('pass');
    expect(caches.sizes()).toEqual(sizes);

    await pg.restart();
    expect(await counts()).toEqual(rows);
  });
});
