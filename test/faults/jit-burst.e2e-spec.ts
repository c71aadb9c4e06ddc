import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, tally, withConcurrency } from './load';

const AUD = 'api://fault-jit';
const SUBJECTS = 500;
const REQUESTS = 1_000;
const IN_FLIGHT = 100;

/**
 * 1,000 concurrent first requests (100 in flight) for 500 brand-new subjects, each subject asked
 * twice so that the two requests race to provision it: every answer 200, exactly one user and
 * one identity link per subject, no deadlock (it would surface as USER_STORE_UNAVAILABLE), no 500.
 */
describe('fault: JIT burst for new subjects', () => {
  let databaseUrl: string;
  let idp: JwksServer;
  let app: ResolverHarness;
  let keys: TokenFactory;
  const issuer = 'https://fault-jit.idp.test';

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('fault_jit');
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('fault-jit');
    const jwksUri = idp.publishJwks('jit', keys.publicJwks());
    app = await ResolverHarness.start({
      databaseUrl,
      config: { database: { poolSize: 10, connectTimeoutMs: 5_000 } },
      issuers: [
        {
          issuer,
          jwksUri,
          audiences: [AUD],
          algorithms: ['ES256'],
          jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
        },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.stop();
  });

  it('provisions each subject exactly once with every answer 200', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all(
      Array.from({ length: SUBJECTS }, (_, i) =>
        keys.sign(
          claimsFor(issuer, AUD, now, { sub: `burst-${i}`, email: `burst-${i}@example.com` }),
          { key: keys.ec },
        ),
      ),
    );
    // Both requests for a subject sit close together in the queue, so they really race.
    const order = Array.from({ length: REQUESTS }, (_, i) => Math.floor(i / 2) % SUBJECTS);
    const tasks = order.map((subject, i) => async () => {
      const token = tokens[subject] as string;
      const answer =
        i % 2 === 0
          ? await httpAnswer(app.url, token)
          : grpcAnswer(await app.resolveGrpc({ token }));
      return { ...answer, startedAt: 0, endedAt: 0 };
    });
    const answers = await withConcurrency(IN_FLIGHT, tasks);
    console.log(
      `JIT burst: ${REQUESTS} requests, ${IN_FLIGHT} in flight: ${JSON.stringify(tally(answers))}`,
    );
    expect(tally(answers)).toEqual({ '200': REQUESTS });

    const sql = sqlPool(databaseUrl);
    try {
      const { rows } = await sql.query(
        `SELECT
          (SELECT count(*)::int FROM users) AS users,
          (SELECT count(DISTINCT lower(email))::int FROM users) AS emails,
          (SELECT count(*)::int FROM external_identities WHERE issuer = $1) AS links,
          (SELECT count(DISTINCT user_id)::int FROM external_identities) AS linked_users`,
        [issuer],
      );
      expect(rows[0]).toEqual({
        users: SUBJECTS,
        emails: SUBJECTS,
        links: SUBJECTS,
        linked_users: SUBJECTS,
      });
    } finally {
      await sql.end();
    }
    const metrics = (await app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      new RegExp(
        `^resolver_jit_provisioning_total\\{issuer="${issuer}",result="created"\\} ${SUBJECTS}$`,
        'm',
      ),
    );
    expect(metrics).toMatch(/^resolver_jit_provisioning_total\{[^}]*result="error"\} 0$/m);
    expect(metrics).not.toMatch(/^resolver_internal_errors_total\{[^}]*\} [1-9]/m);
  });
});
