import { generateKeyPairSync, hash, randomUUID, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ISS } from './issuers';
import type { Bench, Scenario } from './scenario';
import type { ResolverServer } from './servers';
import { AUD } from './tokens';

/** The URL the DPoP proofs are for, as the gateway forwards it (X-Original-URL). */
export const DPOP_URL = 'https://api.bench.local/orders/42';
/** Requests per DPoP run: each proof is used once (a replay would be refused). */
const DPOP_REQUESTS = 20_000;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A DPoP-bound token of the static ES256 issuer for cached user u1, and `n` proofs for
 * `GET DPOP_URL`, one per line as `token<TAB>proof` (what load-http.ts sends as
 * `Authorization: DPoP`, `DPoP` and nginx's X-Original-* headers). Proofs are made now: each
 * is good for the proof window (60 s), so they are written just before the run that uses them.
 * Signed with node:crypto here (the bench measures the server, not a client library).
 */
export function writeDpopRequests(file: string, issuerKeyPem: string, kid: string, n: number) {
  const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = client.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jkt = hash(
    'sha256',
    JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }),
    'base64url',
  );
  const now = Math.floor(Date.now() / 1000);
  const es256 = (input: string, key: Parameters<typeof sign>[2]) =>
    sign('sha256', Buffer.from(input), { key: key as never, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    );
  const tokenInput = `${b64({ alg: 'ES256', typ: 'JWT', kid })}.${b64({
    iss: ISS,
    aud: AUD,
    sub: 'u1',
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    cnf: { jkt },
  })}`;
  const token = `${tokenInput}.${es256(tokenInput, issuerKeyPem)}`;
  const ath = hash('sha256', token, 'base64url');
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const input = `${header}.${b64({ jti: randomUUID(), htm: 'GET', htu: DPOP_URL, iat: now, ath })}`;
    lines.push(`${token}\t${input}.${es256(input, client.privateKey)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * DPoP: the cost of a DPoP-checked request (RFC 9449) on forward-auth, its token and user cached
 * — one proof verification and one replay-store insert per request — against the same number of
 * warm bearer requests with the same generator, so the server CPU µs per request compare.
 */
export const dpop: Scenario = {
  name: 'dpop',
  baselines: () => [],
  servers: (o) => (o.http ? ['main'] : []),
  // The bearer run's token: the same issuer and user, no binding.
  mint: (p) => [{ key: p.idp.es256, iss: ISS, subjects: ['u1'], file: p.file('dpop-bearer.txt') }],
  async prime(b) {
    const main = b.main as ResolverServer;
    await b.run.httpCount(main.url, b.file('dpop-bearer.txt'), 100, 'GET', '/v1/authz')();
  },
  async round(b: Bench) {
    if (!b.o.http) return;
    const main = b.main as ResolverServer;
    const file = b.file('dpop.txt');
    writeDpopRequests(file, b.idp.es256.pem, b.idp.es256.kid, DPOP_REQUESTS + 1);
    // The token's first request verifies it and caches it; the timed run is then warm.
    const first = readFileSync(file, 'utf8').split('\n')[0] as string;
    writeFileSync(b.file('dpop-first.txt'), `${first}\n`);
    await b.run.httpCount(main.url, b.file('dpop-first.txt'), 1, 'GET', '/v1/authz')();
    const rest = readFileSync(file, 'utf8').split('\n').slice(1).join('\n');
    writeFileSync(file, rest);
    const d = await b.run.measure(
      'DPoP /v1/authz (proof + replay insert)',
      'http',
      main,
      b.run.httpCount(main.url, file, DPOP_REQUESTS, 'GET', '/v1/authz'),
    );
    const w = await b.run.measure(
      'warm bearer /v1/authz (same generator)',
      'http',
      main,
      b.run.httpCount(main.url, b.file('dpop-bearer.txt'), DPOP_REQUESTS, 'GET', '/v1/authz'),
    );
    b.run.ratio('DPoP / warm bearer /v1/authz', d, w, 'rps');
  },
};
