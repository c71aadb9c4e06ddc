import type { Pool } from 'pg';
import { SubjectCaches } from '@resolver/resolution';
import { createTestDatabase, sqlPool } from './database';
import { DiagnoseGrpcClient } from './diagnose-grpc-client';
import { JwksServer } from './jwks-server';
import { perSuite, type SuiteWorld } from './per-suite';
import { ResolverHarness } from './resolver-harness';
import { claimsFor, TokenFactory } from './token-factory';

/*
 * The world of the diagnose suites (test/diagnose*.e2e-spec.ts): four issuers (plain, another,
 * tenant-scoped, JIT), one user per cause a diagnosis names, and a diagnose() that asserts the
 * diagnosis changed nothing (row counts, updated_at, cache sizes, resolution/cache metrics).
 */

export const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';
export const AUD = 'api://diagnose';
export const ISS = 'https://diagnose.idp.test';
export const OTHER_ISS = 'https://other.idp.test';
export const TENANT_ISS = 'https://tenants.diagnose.test';
export const JIT_ISS = 'https://jit.diagnose.test';
export const now = () => Math.floor(Date.now() / 1000);

export class DiagnoseWorld implements SuiteWorld {
  idp?: JwksServer;
  keys!: TokenFactory;
  app!: ResolverHarness;
  db!: Pool;
  grpc!: DiagnoseGrpcClient;
  /** The issuer settings, for a second resolver (admin off) over the same issuers. */
  issuers: Record<string, unknown>[] = [];
  /** The seeded users by name (alice, casey, columbo, dora, dis, acme, stale, otto, eve). */
  readonly ids: Record<string, string> = {};

  sign(overrides: Record<string, unknown>, issuer = ISS): Promise<string> {
    return this.keys.sign(claimsFor(issuer, AUD, now(), overrides));
  }

  /** Everything a diagnosis must not change. */
  async snapshot() {
    const { app, db } = this;
    const { rows } = await db.query(`SELECT
      (SELECT count(*) FROM users) AS users,
      (SELECT count(*) FROM external_identities) AS identities,
      (SELECT count(*) FROM revoked_tokens) AS revoked,
      (SELECT string_agg(id || '@' || updated_at::text, ',' ORDER BY id) FROM users) AS updated`);
    const metrics = ((await app.http('/metrics')).body as string)
      .split('\n')
      .filter((l) =>
        /^resolver_(resolutions_total|cache_requests_total|jit_provisioning_total)/.test(l),
      )
      .join('\n');
    return { db: rows[0], caches: app.resolver.app.get(SubjectCaches).sizes(), metrics };
  }

  async diagnose(token: unknown) {
    const { app } = this;
    const before = await this.snapshot();
    const res = await app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(200);
    expect(await this.snapshot()).toEqual(before);
    expect(res.body.steps.map((s: any) => s.step)).toEqual([
      'format',
      'decrypt',
      'introspection',
      'decode',
      'issuer',
      'key',
      'signature',
      'time',
      'claims',
      'binding',
      'revocation',
      'subject',
      'tenant',
      'store',
      'user',
      'jit',
      'cache',
      'verdict',
    ]);
    // The signature segment is never echoed back.
    if (typeof token === 'string' && token.split('.')[2])
      expect(JSON.stringify(res.body)).not.toContain(token.split('.')[2]);
    const step = (name: string) => res.body.steps.find((s: any) => s.step === name);
    const failing = res.body.steps.filter((s: any) => s.status === 'fail').map((s: any) => s.step);
    return { body: res.body, verdict: res.body.verdict.reason as string, step, failing };
  }

  async start(database: string): Promise<void> {
    const idp = (this.idp = await new JwksServer().start());
    const keys = (this.keys = await TokenFactory.create('diagnose'));
    const jwksUri = idp.publishJwks('d', keys.publicJwks());
    const databaseUrl = await createTestDatabase(database);
    const db = (this.db = sqlPool(databaseUrl));
    const base = { jwksUri, audiences: [AUD], algorithms: ['RS256', 'ES256'] };
    const issuers = (this.issuers = [
      { ...base, issuer: ISS },
      { ...base, issuer: OTHER_ISS },
      { ...base, issuer: TENANT_ISS, tenant: { claim: 'tid' } },
      {
        ...base,
        issuer: JIT_ISS,
        jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
      },
    ]);
    const app = (this.app = await ResolverHarness.start({
      databaseUrl,
      issuers,
      env: { ADMIN_TOKEN },
    }));
    this.grpc = new DiagnoseGrpcClient(app.resolver.grpcAddress);

    const user = async (name: string, fields: Record<string, unknown> = {}) => {
      const { rows } = await db.query(
        `INSERT INTO users (tenant, email, username, status, deleted_at, provenance)
         VALUES ($1, $2, $3, $4, $5, 'admin') RETURNING id`,
        [
          fields.tenant ?? '',
          fields.email ?? `${name}@example.com`,
          fields.username ?? name,
          fields.status ?? 'active',
          fields.deletedAt ?? null,
        ],
      );
      this.ids[name] = rows[0].id;
      return rows[0].id as string;
    };
    const link = (userId: string, issuer: string, subject: string, tenant = '') =>
      db.query(
        'INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)',
        [issuer, tenant, subject, userId],
      );
    await link(await user('alice'), ISS, 'alice');
    await link(await user('casey'), ISS, 'Casey');
    await user('columbo');
    await link(await user('dora', { deletedAt: new Date() }), ISS, 'dora');
    await link(await user('dis', { status: 'disabled' }), ISS, 'dis');
    await link(await user('acme', { tenant: 'acme' }), TENANT_ISS, 'ten-user', 'acme');
    await link(await user('stale'), ISS, 'stale');
    await link(await user('otto'), OTHER_ISS, 'otto');
    await user('eve');

    // Caches are used only once the listener is up and the deny-list loaded.
    const caches = app.resolver.app.get(SubjectCaches);
    const deadline = Date.now() + 10_000;
    while (!caches.coherent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(caches.coherent).toBe(true);
  }

  async close(): Promise<void> {
    (this.grpc as DiagnoseGrpcClient | undefined)?.close();
    await (this.app as ResolverHarness | undefined)?.close();
    await (this.db as Pool | undefined)?.end();
    await this.idp?.stop();
  }
}

export const diagnoseWorld = (name: string): DiagnoseWorld => perSuite(new DiagnoseWorld(), name);
