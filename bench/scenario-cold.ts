import { ISS, JWKS_ISS } from './issuers';
import { log } from './processes';
import { type Bench, cachedCycle, countFresh, type Prep, type Scenario } from './scenario';
import type { ResolverServer } from './servers';
import type { MintJob } from './tokens';

const rounds = (p: Prep) => Array.from({ length: p.o.rounds }, (_, i) => i + 1);

/**
 * Cold token: a token never seen before on every request (verified every time), its user
 * cached; against bare handlers that verify with jose, and with node:crypto on a cached
 * KeyObject (the platform's ceiling). When start:prod caps the heap, the same tokens also go to
 * a resolver without the cap, in the same rounds: what the cap costs on the path that
 * allocates most.
 */
export const cold: Scenario = {
  name: 'cold',
  baselines: (o) => [
    ...(o.http ? ['fastify-jose', 'fastify-crypto'] : []),
    ...(o.grpc ? ['grpc-jose', 'grpc-crypto'] : []),
  ],
  servers: (o) => (o.capCheck && o.http ? ['main', 'nocap'] : ['main']),
  mint: (p) =>
    rounds(p).flatMap((round): MintJob[] => {
      const job = (name: string) => ({
        key: p.idp.es256,
        iss: ISS,
        subjects: cachedCycle(p.o.coldCount, p.o.users),
        file: p.file(`${name}-${round}.txt`),
      });
      return [
        ...(p.o.http ? [job('cold-http')] : []),
        ...(p.o.grpc ? [job('cold-grpc')] : []),
        ...(p.o.http && p.o.capCheck ? [job('cold-nocap')] : []),
      ];
    }),
  async round(b, round) {
    const { run, o } = b;
    const main = b.main as ResolverServer;
    if (o.http) {
      const t = b.file(`cold-http-${round}.txt`);
      const jose = b.bare('fastify-jose');
      const crypto = b.bare('fastify-crypto');
      await run.measure(
        'bare Fastify + jose',
        'http',
        jose,
        run.httpTimed(jose.url, t, 'POST', '/v1/resolve'),
      );
      const r = await run.measure(
        'cold token',
        'http',
        main,
        run.httpTimed(main.url, t, 'POST', '/v1/resolve'),
        t,
      );
      countFresh(b, main, r, t);
      const fc = await run.measure(
        'bare Fastify + crypto.verify',
        'http',
        crypto,
        run.httpTimed(crypto.url, t, 'POST', '/v1/resolve'),
      );
      run.ratio('cold HTTP / bare Fastify + crypto.verify', r, fc, 'rps');
      if (b.nocap) {
        const n = b.file(`cold-nocap-${round}.txt`);
        const u = await run.measure(
          'cold token, no heap cap',
          'http',
          b.nocap,
          run.httpTimed(b.nocap.url, n, 'POST', '/v1/resolve'),
          n,
        );
        countFresh(b, b.nocap, u, n);
        run.ratio('cold HTTP server CPU: heap cap / no cap', r, u, 'cpu');
      }
    }
    if (o.grpc) {
      const t = b.file(`cold-grpc-${round}.txt`);
      const jose = b.bare('grpc-jose');
      const crypto = b.bare('grpc-crypto');
      await run.measure(
        'bare grpc-js + jose',
        'grpc',
        jose,
        run.grpcTokens(jose.address, t, 'resolve'),
      );
      const rg = await run.measure(
        'cold token',
        'grpc',
        main,
        run.grpcTokens(main.address, t, 'resolve'),
        t,
      );
      countFresh(b, main, rg, t);
      const gc = await run.measure(
        'bare grpc-js + crypto.verify',
        'grpc',
        crypto,
        run.grpcTokens(crypto.address, t, 'resolve'),
      );
      run.ratio('cold gRPC / bare grpc-js + crypto.verify', rg, gc, 'rps');
    }
  },
};

/**
 * IdP hang: cold tokens of an issuer whose keys come from the JWKS the bench serves, stale
 * after 2 s (fetch timeout 500 ms), once with the IdP up and once hung.
 */
export const hang: Scenario = {
  name: 'hang',
  baselines: () => [],
  servers: () => ['main'],
  mint: (p) => {
    if (!p.o.http) return [];
    const job = (name: string, n: number) => ({
      key: p.idp.jwksEs256,
      iss: JWKS_ISS,
      subjects: cachedCycle(n, p.o.users),
      file: p.file(`${name}.txt`),
    });
    return [
      job('prime-jwks', 10),
      ...rounds(p).flatMap((r) => [
        job(`hang-up-${r}`, p.o.coldCount),
        job(`hang-hung-${r}`, p.o.coldCount),
      ]),
    ];
  },
  async prime(b) {
    if (b.o.http)
      await b.run.httpCount((b.main as ResolverServer).url, b.file('prime-jwks.txt'), 10)();
  },
  async round(b: Bench, round: number) {
    if (!b.o.http) return;
    const { run, idp } = b;
    const main = b.main as ResolverServer;
    const up = b.file(`hang-up-${round}.txt`);
    const hung = b.file(`hang-hung-${round}.txt`);
    idp.hang(false);
    const u = await run.measure(
      'IdP up: cold token, JWKS issuer',
      'http',
      main,
      run.httpTimed(main.url, up, 'POST', '/v1/resolve'),
      up,
    );
    countFresh(b, main, u, up);
    idp.hang(true);
    const h = await run.measure(
      'IdP hang: cold token, JWKS issuer',
      'http',
      main,
      run.httpTimed(main.url, hung, 'POST', '/v1/resolve'),
      hung,
    );
    countFresh(b, main, h, hung);
    idp.hang(false);
    const held = idp.release();
    ((b.notes.jwksRequestsDuringHang ??= []) as number[]).push(held);
    log(`  the resolver asked the hung JWKS ${held} times during that run`);
    run.ratio('IdP hang: cold-token p99, JWKS hung / up', h, u, 'p99Ms');
  },
};
