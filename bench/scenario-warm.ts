import { readFileSync } from 'node:fs';
import { ISS, JWKS_ISS } from './issuers';
import { cachedSubjects, type Prep, type Scenario } from './scenario';
import type { Row } from './report';
import type { ResolverServer } from './servers';
import { CEILING_WARM_1K } from './targets';

/** The warm token's issuer: an RS256 key from a JWKS by default (issue #24's held-out run). */
function warmIssuer(p: Prep) {
  return p.o.warmIssuer === 'jwks-rs256'
    ? { iss: JWKS_ISS, key: p.idp.rs256 }
    : { iss: ISS, key: p.idp.es256 };
}

/**
 * Warm: one token repeated, its user cached (no crypto, no SQL), on every entry point against
 * a bare handler on the same framework; and 1,000 cached tokens against the usual recipe
 * (passport-jwt + jwks-rsa + TypeORM), which verifies and queries on every request.
 */
export const warm: Scenario = {
  name: 'warm',
  baselines: (o) => [...(o.http ? ['fastify'] : []), ...(o.grpc ? ['grpc'] : [])],
  servers: (o) => (o.http ? ['main', 'recipe'] : ['main']),
  mint: (p) => {
    const { iss, key } = warmIssuer(p);
    return [
      { key, iss, subjects: ['u1'], file: p.file('warm.txt') },
      {
        key: p.idp.rs256,
        iss: JWKS_ISS,
        subjects: cachedSubjects(p.o.users),
        file: p.file('warm-1k.txt'),
      },
    ];
  },
  async prime(b) {
    const main = b.main as ResolverServer;
    await b.run.httpCount(main.url, b.file('warm.txt'), 500)();
    await b.run.httpCount(main.url, b.file('warm-1k.txt'), cachedSubjects(b.o.users).length)();
    if (b.recipe) await b.run.httpCount(b.recipe.url, b.file('warm-1k.txt'), 2000)();
  },
  async round(b) {
    const { run, o } = b;
    const main = b.main as ResolverServer;
    const w = b.file('warm.txt');
    const token = readFileSync(w, 'utf8').trim();
    let fastifyRow: Row | undefined;
    if (o.http) {
      const fastify = b.bare('fastify');
      const f = await run.measure(
        'bare Fastify',
        'http',
        fastify,
        run.httpTimed(fastify.url, w, 'POST', '/v1/resolve'),
      );
      const r = await run.measure(
        'warm /v1/resolve',
        'http',
        main,
        run.httpTimed(main.url, w, 'POST', '/v1/resolve'),
      );
      const fa = await run.measure(
        'bare Fastify GET /v1/authz',
        'http',
        fastify,
        run.httpTimed(fastify.url, w, 'GET', '/v1/authz'),
      );
      const ra = await run.measure(
        'warm /v1/authz',
        'http',
        main,
        run.httpTimed(main.url, w, 'GET', '/v1/authz'),
      );
      run.ratio('warm /v1/resolve / bare Fastify', r, f, 'rps');
      fastifyRow = f;
      run.ratio('warm /v1/authz / bare Fastify', ra, fa, 'rps');
    }
    if (o.grpc) {
      const grpc = b.bare('grpc');
      const g = await run.measure(
        'bare grpc-js',
        'grpc',
        grpc,
        run.grpcRepeated(grpc.address, 'resolve', token, w),
      );
      const rg = await run.measure(
        'warm ResolveSubject',
        'grpc',
        main,
        run.grpcRepeated(main.address, 'resolve', token, w),
      );
      const gc = await run.measure(
        'bare grpc-js Check',
        'grpc',
        grpc,
        run.grpcRepeated(grpc.address, 'check', token, w),
      );
      const rc = await run.measure(
        'warm Check',
        'grpc',
        main,
        run.grpcRepeated(main.address, 'check', token, w),
      );
      run.ratio('warm ResolveSubject / bare grpc-js', rg, g, 'rps');
      run.ratio('warm Check / bare grpc-js Check', rc, gc, 'rps');
    }
    if (o.http && b.recipe) {
      const k = b.file('warm-1k.txt');
      const p = await run.measure(
        'the recipe, 1,000 tokens',
        'http',
        b.recipe,
        run.httpTimed(b.recipe.url, k, 'POST', '/v1/resolve'),
      );
      const r = await run.measure(
        'warm, 1,000 tokens',
        'http',
        main,
        run.httpTimed(main.url, k, 'POST', '/v1/resolve'),
      );
      run.ratio('warm, 1,000 tokens / the recipe', r, p, 'rps');
      // What a handler that only answers reaches against the recipe: the ceiling of the row
      // above on this framework (bare Fastify does no cache lookup, no check, no hash).
      run.ratio(CEILING_WARM_1K, fastifyRow, p, 'rps');
    }
  },
};
