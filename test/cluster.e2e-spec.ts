import { createTestDatabase, sqlPool } from './support/database';
import { ResolverGrpcClient } from './support/grpc-client';
import { JwksServer } from './support/jwks-server';
import { ResolverProcess } from './support/resolver-process';
import { claimsFor, TokenFactory } from './support/token-factory';

const ISS = 'https://cluster.idp.test';
const AUD = 'api://cluster';
const ADMIN_TOKEN = 'cluster-admin-secret-0123456789abcdef';

/**
 * WORKERS=2: both workers serve HTTP and gRPC on the shared ports; /metrics and the console's
 * overview cover all workers.
 */
describe('WORKERS cluster', () => {
  it('serves HTTP and gRPC from every worker, aggregates metrics, and drains on SIGTERM', async () => {
    const idp = await new JwksServer().start();
    const keys = await TokenFactory.create('cluster');
    const databaseUrl = await createTestDatabase('cluster');
    const proc = await ResolverProcess.start(
      databaseUrl,
      {
        issuers: [
          {
            issuer: ISS,
            jwksUri: idp.publishJwks('c', keys.publicJwks()),
            audiences: [AUD],
            algorithms: ['RS256'],
            jit: { enabled: true },
          },
        ],
      },
      { WORKERS: '2', ADMIN_TOKEN },
    );
    const grpc = new ResolverGrpcClient(proc.grpcAddress);
    try {
      const now = Math.floor(Date.now() / 1000);
      const tokens = await Promise.all(
        Array.from({ length: 10 }, (_, i) => keys.sign(claimsFor(ISS, AUD, now, { sub: `w${i}` }))),
      );
      for (let round = 0; round < 4; round++) {
        const http = await Promise.all(
          tokens.map((t) =>
            fetch(`${proc.url}/v1/resolve`, {
              method: 'POST',
              headers: { authorization: `Bearer ${t}` },
            }),
          ),
        );
        expect(http.map((r) => r.status)).toEqual(tokens.map(() => 200));
        const viaGrpc = await Promise.all(tokens.map((t) => grpc.resolve({ token: t })));
        expect(viaGrpc.every((r) => r.ok)).toBe(true);
      }
      const db = sqlPool(databaseUrl);
      expect((await db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(10);
      await db.end();
      // 80 answers in all, wherever they landed: the scrape must count every worker's share.
      const metrics = await (await fetch(`${proc.url}/metrics`)).text();
      const resolved = [
        ...metrics.matchAll(
          /resolver_resolutions_total\{outcome="resolved",reason="NONE",issuer="https:\/\/cluster\.idp\.test",transport="(http|grpc)"\} (\d+)/g,
        ),
      ];
      expect(resolved.reduce((n, m) => n + Number(m[2]), 0)).toBe(80);
      // So does the console's ring buffer of recent answers, whichever worker serves the page.
      for (let i = 0; i < 4; i++) {
        const overview: any = await (
          await fetch(`${proc.url}/console/api/overview`, {
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          })
        ).json();
        const buckets = overview.recent.buckets as { resolved: number }[];
        expect(buckets.reduce((n, b) => n + b.resolved, 0)).toBe(80);
      }
      expect(proc.logs()).toMatch(/2 workers/);
    } finally {
      grpc.close();
      expect(await proc.stop()).toBe(0);
      await idp.stop();
    }
  });
});
