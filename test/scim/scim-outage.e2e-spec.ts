import { sqlPool } from '../support/database';
import { ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** A store that cannot answer is 503 (never a 404 or a half-written user), and recovers. */
describe('SCIM when the user store cannot answer', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_outage', {
      database: { statementTimeoutMs: 300, retryAttempts: 0 },
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('answers 503 while scim_users is locked, writes nothing, and works again after', async () => {
    const created = await f.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'before',
      externalId: 'before',
    });
    expect(created.status).toBe(201);
    const db = sqlPool(f.databaseUrl);
    const lock = await db.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE scim_users IN ACCESS EXCLUSIVE MODE');
      const get = await f.scim('GET', `/Users/${created.body.id}`);
      expect(get.status).toBe(503);
      expect(get.headers.get('retry-after')).toBe('1');
      expect(get.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '503',
      });
      expect(JSON.stringify(get.body)).not.toMatch(/SELECT|scim_users|timeout/i);
      const post = await f.scim('POST', '/Users', {
        schemas: [USER],
        userName: 'during',
        externalId: 'during',
      });
      expect(post.status).toBe(503);
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    const users = await db.query(`SELECT count(*)::int AS n FROM users WHERE username = 'during'`);
    expect(users.rows[0].n).toBe(0);
    await db.end();
    expect((await f.scim('GET', `/Users/${created.body.id}`)).status).toBe(200);
    const metrics = await f.app.http('/metrics');
    expect(metrics.body).toMatch(
      /resolver_scim_requests_total\{client="okta",operation="users.get",result="503"\} 1/,
    );
  });
});
