import { join } from 'node:path';
import { runNodeGenerator } from './generators';
import { DIST } from './options';
import { ISS, JWKS_ISS } from './issuers';
import { log } from './processes';
import { type Bench, CACHED_USERS, countFresh, randomUsers, type Scenario } from './scenario';
import type { BenchServer, ResolverServer } from './servers';

const middle = (xs: readonly number[]) =>
  xs.length ? ([...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number) : NaN;

/**
 * Store: the "store" resolver (user and negative caches off) queries Postgres on every request,
 * for 5,000 random users or a 1,000-user working set, against a bare handler sending the same
 * indexed lookup through `pg`; then at half its peak rate, open loop.
 */
export const store: Scenario = {
  name: 'store',
  baselines: (o) => [...(o.http ? ['fastify-pg'] : []), ...(o.grpc ? ['grpc-pg'] : [])],
  servers: () => ['store'],
  mint: (p) => [
    {
      key: p.idp.es256,
      iss: ISS,
      subjects: randomUsers(5000, p.o.users),
      file: p.file('store.txt'),
    },
    {
      key: p.idp.es256,
      iss: ISS,
      subjects: randomUsers(5000, Math.min(CACHED_USERS, p.o.users)),
      file: p.file('store-1k.txt'),
    },
  ],
  async prime(b) {
    const s = b.store as ResolverServer;
    await b.run.httpCount(s.url, b.file('store.txt'), 5000)();
    await b.run.httpCount(s.url, b.file('store-1k.txt'), 5000)();
  },
  async round(b) {
    const { run, o } = b;
    const s = b.store as ResolverServer;
    const t = b.file('store.txt');
    if (o.http) {
      const pg = b.bare('fastify-pg');
      const f = await run.measure(
        'bare Fastify + pg',
        'http',
        pg,
        run.httpTimed(pg.url, t, 'POST', '/v1/resolve'),
      );
      const r = await run.measure(
        'store',
        'http',
        s,
        run.httpTimed(s.url, t, 'POST', '/v1/resolve'),
      );
      const small = await run.measure(
        'store, 1k-user working set',
        'http',
        s,
        run.httpTimed(s.url, b.file('store-1k.txt'), 'POST', '/v1/resolve'),
      );
      run.ratio('store HTTP / bare Fastify + pg', r, f, 'rps');
      run.ratio(`store: ${o.users.toLocaleString()} users / 1k working set`, r, small, 'rps');
    }
    if (o.grpc) {
      const pg = b.bare('grpc-pg');
      const g = await run.measure(
        'bare grpc-js + pg',
        'grpc',
        pg,
        run.grpcTokens(pg.address, t, 'resolve'),
      );
      const rg = await run.measure('store', 'grpc', s, run.grpcTokens(s.address, t, 'resolve'));
      run.ratio('store gRPC / bare grpc-js + pg', rg, g, 'rps');
    }
  },
  async after(b) {
    if (!b.o.http) return;
    const s = b.store as ResolverServer;
    const peak = middle((b.run.series[`store\u0000http`] ?? []).map((r) => r.rps));
    const rate = Math.max(1, Math.floor(peak / 2));
    log(`store at half its peak: ${rate} req/s, open loop, alternating with bare Fastify + pg`);
    const paced = (server: BenchServer) => () =>
      runNodeGenerator(
        'open loop (node)',
        join(DIST, 'bench', 'load-paced.js'),
        {
          url: server.url,
          tokens: b.file('store.txt'),
          rate,
          duration: b.o.duration,
          connections: 64,
        },
        b.o.pinning?.load,
      );
    for (let round = 1; round <= b.o.rounds; round++) {
      const r = await b.run.measure('store @ half peak (open loop)', 'http', s, paced(s));
      const pg = b.bare('fastify-pg');
      const f = await b.run.measure(
        'bare Fastify + pg @ same rate (open loop)',
        'http',
        pg,
        paced(pg),
      );
      b.run.ratio('store @ half peak: p99 / bare Fastify + pg p99', r, f, 'p99Ms');
    }
  },
};

/**
 * Full miss: a new RS256 token (JWKS issuer) for a random one of 100,000 users on the store
 * resolver, verify + lookup on every request; against bare Fastify verifying with jose or
 * node:crypto and looking up through `pg`, and against the usual recipe on the same tokens.
 */
export const fullmiss: Scenario = {
  name: 'fullmiss',
  baselines: (o) => (o.http ? ['fastify-jose-pg', 'fastify-crypto-pg'] : []),
  servers: (o) => (o.http ? ['store', 'recipe'] : []),
  mint: (p) =>
    p.o.http
      ? Array.from({ length: p.o.rounds }, (_, i) => ({
          key: p.idp.rs256,
          iss: JWKS_ISS,
          subjects: randomUsers(p.o.fullMissCount, Math.min(p.o.users, 100_000)),
          file: p.file(`fullmiss-${i + 1}.txt`),
        }))
      : [],
  async round(b: Bench, round: number) {
    if (!b.o.http) return;
    const { run } = b;
    const s = b.store as ResolverServer;
    const t = b.file(`fullmiss-${round}.txt`);
    const timed = (server: BenchServer) => run.httpTimed(server.url, t, 'POST', '/v1/resolve');
    const jose = b.bare('fastify-jose-pg');
    const crypto = b.bare('fastify-crypto-pg');
    await run.measure('bare Fastify + jose + pg', 'http', jose, timed(jose));
    const fc = await run.measure(
      'bare Fastify + crypto.verify + pg',
      'http',
      crypto,
      timed(crypto),
    );
    const r = await run.measure('full miss', 'http', s, timed(s), t);
    countFresh(b, s, r, t);
    const recipe = b.recipe as BenchServer;
    const p = await run.measure('the recipe: full miss', 'http', recipe, timed(recipe));
    run.ratio('full miss HTTP / bare Fastify + crypto.verify + pg', r, fc, 'rps');
    run.ratio('full miss / the recipe', r, p, 'rps');
  },
};
