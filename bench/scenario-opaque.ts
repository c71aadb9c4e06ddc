import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { ISS, OPAQUE_ISS } from './issuers';
import { log } from './processes';
import { type Bench, countFresh, type Scenario } from './scenario';
import type { ResolverServer } from './servers';

/** Links user u1 to the opaque issuer (the seed links every user to the JWS issuers only). */
async function linkU1(dbUrl: string): Promise<void> {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO external_identities (issuer, tenant, subject, user_id)
         SELECT $1, '', subject, user_id FROM external_identities
         WHERE issuer = $2 AND subject = 'u1' ON CONFLICT DO NOTHING`,
      [OPAQUE_ISS, ISS],
    );
  } finally {
    await client.end();
  }
}

/**
 * Opaque tokens (RFC 7662) of cached user u1 on POST /v1/resolve, against the endpoint the bench
 * serves on loopback: **cached** — one token repeated, its answer kept until min(exp, cap) (the
 * verified-token cache: no request to the endpoint, no SQL); **introspected** — a token never
 * seen before on every request (`--cold-tokens` of them, new each round), so each is one
 * introspection call (form POST, answer read and checked, both caches written) before the cached
 * user is answered: the opaque twin of the cold JWS row. Server CPU µs per request compare with
 * the warm and cold JWS rows; the endpoint's own CPU is the bench's, not the server's.
 */
export const opaque: Scenario = {
  name: 'opaque',
  baselines: () => [],
  servers: (o) => (o.http ? ['main'] : []),
  async prime(b) {
    if (!b.o.http) return;
    const main = b.main as ResolverServer;
    await linkU1(b.ctx.dbUrl);
    writeFileSync(b.file('opaque-cached.txt'), `bop_u1_${randomUUID()}\n`);
    // The link's notification reaches the resolver's caches; then the token answers.
    await new Promise((r) => setTimeout(r, 500));
    await b.run.httpCount(main.url, b.file('opaque-cached.txt'), 200)();
  },
  async round(b: Bench) {
    if (!b.o.http) return;
    const { run } = b;
    const main = b.main as ResolverServer;
    const fresh = b.file('opaque-fresh.txt');
    const round = randomUUID().slice(0, 8);
    writeFileSync(
      fresh,
      `${Array.from({ length: b.o.coldCount }, (_, i) => `bop_u1_${round}${i}`).join('\n')}\n`,
    );
    const before = b.idp.introspections;
    const cached = await run.measure(
      'opaque cached /v1/resolve',
      'http',
      main,
      run.httpTimed(main.url, b.file('opaque-cached.txt'), 'POST', '/v1/resolve'),
    );
    const introspected = await run.measure(
      'opaque introspected /v1/resolve (a new token each request)',
      'http',
      main,
      run.httpTimed(main.url, fresh, 'POST', '/v1/resolve'),
      fresh,
    );
    countFresh(b, main, introspected, fresh);
    log(
      `  opaque: ${b.idp.introspections - before} introspection calls for ${cached?.requests ?? 0} cached + ${introspected?.requests ?? 0} new-token requests`,
    );
    run.ratio('opaque introspected / cached /v1/resolve', introspected, cached, 'cpu');
  },
};
