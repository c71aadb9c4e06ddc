import { FixedClock } from '@resolver/observability';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';
import { Client } from 'pg';
import { seedUser, sqlPool } from './support/database';
import { OwnPostgres } from './support/own-postgres';

const AUD = 'api://outage';

/**
 * A stopped database must read as "unavailable" (503 / UNAVAILABLE), never as "user not found",
 * and the resolver must recover by itself when the database comes back. This suite owns its
 * Postgres so it can stop it without disturbing the other suites.
 */
describe('user store outage', () => {
  let pg: OwnPostgres;
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  const issuer = 'https://outage.idp.test';
  const jitIssuer = 'https://outage-jit.idp.test';
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    pg = await OwnPostgres.start('outage');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('outage');
    const jwksUri = idp.publishJwks('outage', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl: pg.url,
      config: {
        database: {
          retryAttempts: 2,
          retryBackoffMs: 20,
          connectTimeoutMs: 500,
          statementTimeoutMs: 1000,
        },
      },
      issuers: [
        { issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] },
        {
          issuer: jitIssuer,
          jwksUri,
          audiences: [AUD],
          algorithms: ['RS256'],
          jit: { enabled: true },
        },
      ],
    });
    const db = sqlPool(pg.url);
    await seedUser(db, issuer, { subject: 'kept', email: 'kept@example.com' });
    await db.end();
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
    await idp?.stop();
  });

  it('answers USER_STORE_UNAVAILABLE while Postgres is down, then recovers without a restart', async () => {
    const known = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'kept' }));
    const unknown = await keys.sign(claimsFor(issuer, AUD, now(), { sub: 'never-seen' }));
    const jit = await keys.sign(claimsFor(jitIssuer, AUD, now(), { sub: 'would-provision' }));
    expect((await app.resolveHttp({ token: known })).status).toBe(200);

    await pg.stop();
    for (const token of [known, unknown, jit]) {
      const http = await app.resolveHttp({ token });
      expect([http.status, http.body.reason]).toEqual([503, 'USER_STORE_UNAVAILABLE']);
      expect(http.headers.get('retry-after')).toBe('1');
      const grpc = await app.resolveGrpc({ token });
      expect(grpc).toMatchObject({ ok: false, code: 14, reason: 'USER_STORE_UNAVAILABLE' });
    }
    expect((await app.http('/health/ready')).status).toBe(503);
    expect((await app.http('/health/live')).status).toBe(200);

    await pg.restart();
    const deadline = Date.now() + 5_000;
    let recovered = await app.resolveHttp({ token: known });
    while (recovered.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      recovered = await app.resolveHttp({ token: known });
    }
    expect(recovered.status).toBe(200);
    expect((await app.resolveHttp({ token: unknown })).body.reason).toBe('USER_NOT_FOUND');
    expect((await app.http('/health/ready')).status).toBe(200);

    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /reason="USER_STORE_UNAVAILABLE",issuer="https:\/\/outage.idp.test",transport="http"\} [1-9]/,
    );
  });

  it('outage mode (cache.serveStaleOnOutageSeconds): users cached before the outage keep resolving, for a bounded time', async () => {
    const clock = new FixedClock(new Date());
    const jwksUri = idp.publishJwks('outage-stale', keys.publicJwks());
    const stale = await ResolverHarness.start({
      databaseUrl: pg.url,
      clock,
      config: {
        database: {
          retryAttempts: 1,
          retryBackoffMs: 20,
          connectTimeoutMs: 500,
          statementTimeoutMs: 1000,
        },
        cache: { serveStaleOnOutageSeconds: 30 },
      },
      issuers: [{ issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'] }],
    });
    try {
      const at = () => Math.floor(clock.now().getTime() / 1000);
      const known = await keys.sign(claimsFor(issuer, AUD, at(), { sub: 'kept', jti: 'kept-1' }));
      const revokedToken = await keys.sign(
        claimsFor(issuer, AUD, at(), { sub: 'kept', jti: 'revoked-1' }),
      );
      const unknown = await keys.sign(claimsFor(issuer, AUD, at(), { sub: 'never-seen-2' }));
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      await client.query(
        `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, 'revoked-1', now() + interval '1 hour')`,
        [issuer],
      );
      await client.end();
      // Wait until this replica trusts its caches, then cache the user.
      const deadline = Date.now() + 5000;
      while (
        !(await stale.http('/health/ready')).body.details?.listener?.cachesInUse &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await stale.resolveHttp({ token: known })).status).toBe(200);
      expect((await stale.resolveHttp({ token: revokedToken })).body.reason).toBe('TOKEN_REVOKED');

      await pg.stop();
      try {
        const during = await stale.resolveHttp({ token: known });
        expect([during.status, during.body.source]).toEqual([200, 'CACHE']);
        expect((await stale.resolveGrpc({ token: known })).ok).toBe(true);
        // The deny-list as last known still applies; unknown users are still "unavailable".
        expect((await stale.resolveHttp({ token: revokedToken })).body.reason).toBe(
          'TOKEN_REVOKED',
        );
        expect((await stale.resolveHttp({ token: unknown })).body.reason).toBe(
          'USER_STORE_UNAVAILABLE',
        );
        // Past the bound, nothing stale is served.
        clock.advance(31_000);
        expect((await stale.resolveHttp({ token: known })).body.reason).toBe(
          'USER_STORE_UNAVAILABLE',
        );
      } finally {
        await pg.restart();
      }
    } finally {
      await stale.close();
    }
  });
});
