import * as DPoP from 'dpop';
import { JwksServer } from '../support/jwks-server';
import { OwnPostgres } from '../support/own-postgres';
import { ResolverHarness } from '../support/resolver-harness';
import { seedUser, sqlPool } from '../support/database';
import { claimsFor, TokenFactory } from '../support/token-factory';

const AUD = 'https://api.replay-outage.test';
const URI = `${AUD}/orders/7`;
const issuer = 'https://replay-outage.idp.test';

/**
 * The DPoP replay store fails closed: with Postgres down, a DPoP-bound token with a fresh proof
 * is refused 503 (USER_STORE_UNAVAILABLE), never accepted, even where outage mode still answers
 * a plain bearer token of the same user from the cache (a proof whose replay cannot be checked
 * could be a replay). This suite owns its Postgres so it can stop it.
 */
describe('DPoP replay store outage: fail closed', () => {
  let pg: OwnPostgres;
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let client: DPoP.KeyPair;
  let bound: string;
  let plain: string;

  const resolveBound = async () =>
    app.http('/v1/resolve', {
      method: 'POST',
      headers: {
        authorization: `DPoP ${bound}`,
        'content-type': 'application/json',
        dpop: await DPoP.generateProof(client, URI, 'GET', undefined, bound),
      },
      body: JSON.stringify({ method: 'GET', uri: URI }),
    });

  beforeAll(async () => {
    pg = await OwnPostgres.start('replay_outage');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('replay-outage');
    const jwksUri = idp.publishJwks('replay-outage', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl: pg.url,
      config: {
        database: {
          retryAttempts: 1,
          retryBackoffMs: 20,
          connectTimeoutMs: 500,
          statementTimeoutMs: 1000,
        },
        cache: { serveStaleOnOutageSeconds: 60 },
      },
      issuers: [
        {
          issuer,
          jwksUri,
          audiences: [AUD],
          algorithms: ['ES256'],
          binding: { mode: 'dpop', enforcement: 'when-bound' },
        },
      ],
    });
    const db = sqlPool(pg.url);
    await seedUser(db, issuer, { subject: 'holder', email: 'holder@example.com' });
    await db.end();
    client = await DPoP.generateKeyPair('ES256');
    const jkt = await DPoP.calculateThumbprint(client.publicKey);
    const now = Math.floor(Date.now() / 1000);
    bound = await keys.sign(claimsFor(issuer, AUD, now, { sub: 'holder', cnf: { jkt } }), {
      key: keys.ec,
    });
    plain = await keys.sign(claimsFor(issuer, AUD, now, { sub: 'holder' }), { key: keys.ec });
  });

  afterAll(async () => {
    await app?.close();
    await pg?.destroy();
    await idp?.stop();
  });

  it('refuses a fresh proof 503 while the store is down, answers again once it is back', async () => {
    // Wait until this replica trusts its caches, then cache the user through both tokens.
    const deadline = Date.now() + 5000;
    while (
      !(await app.http('/health/ready')).body.details?.listener?.cachesInUse &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await resolveBound()).status).toBe(200);
    expect((await app.resolveHttp({ token: plain })).status).toBe(200);

    await pg.stop();
    try {
      // Outage mode still answers the plain token from the cache: the store is not needed.
      const served = await app.resolveHttp({ token: plain });
      expect([served.status, served.body.source]).toEqual([200, 'CACHE']);
      // The bound token's proof cannot be checked for replay: refused, every time.
      for (let i = 0; i < 3; i++) {
        const refused = await resolveBound();
        expect([refused.status, refused.body.reason]).toEqual([503, 'USER_STORE_UNAVAILABLE']);
      }
    } finally {
      await pg.restart();
    }
    const back = Date.now() + 10_000;
    let again = await resolveBound();
    while (again.status !== 200 && Date.now() < back) {
      await new Promise((r) => setTimeout(r, 100));
      again = await resolveBound();
    }
    expect(again.status).toBe(200);
  });
});
