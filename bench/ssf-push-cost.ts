import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { stringify } from 'yaml';
import { createDatabase } from './database';
import { freePort, log, startProcess, stop, treeCpuSeconds } from './processes';

/**
 * The cost of a pushed Shared Signals event (RFC 8935) on the server: CPU seconds of the
 * resolver process per SET, over SETS events (half `account-disabled`, half `session-revoked`
 * for distinct users, each verified, its jti claimed and its effect written in one transaction),
 * next to the CPU per warm /v1/resolve request from the same client loop.
 *
 *   npm run build && node dist/bench/ssf-push-cost.js [sets] [concurrency]
 *
 * Uses DATABASE_URL's server, or an embedded Postgres. One process, no pinning: a rough number
 * for the docs, not a bench round.
 */
const SETS = Number(process.argv[2] ?? 2_000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const ISS = 'https://idp.bench.local';
const TX = 'https://tx.bench.local';
const AUD = 'https://resolver.bench.local/ssf';
const PUSH_TOKEN = 'bench-push-credential-0123456789abcdef';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'resolver-ssf-bench-'));
  await chmod(work, 0o755);
  const db = await createDatabase(work);
  const children: Parameters<typeof stop>[0][] = [];
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = {
    ...keys.publicKey.export({ format: 'jwk' }),
    kid: 'tx-1',
    alg: 'ES256',
    use: 'sig',
  };
  const jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const jwksPort = await freePort();
  await new Promise<void>((r) => jwks.listen(jwksPort, '127.0.0.1', r));
  try {
    const users = Math.max(SETS, 100);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `WITH u AS (INSERT INTO users (email, provenance)
         SELECT 'u' || i || '@bench.local', 'admin' FROM generate_series(1, $1) i RETURNING id, email)
       INSERT INTO external_identities (issuer, tenant, subject, user_id)
         SELECT $2, '', split_part(email, '@', 1), id FROM u`,
      [users, ISS],
    );
    await pg.end();

    const httpPort = await freePort();
    const config = join(work, 'resolver.yaml');
    const jwksUri = `http://127.0.0.1:${jwksPort}/jwks`;
    await writeFile(
      config,
      stringify({
        server: { httpPort, grpcPort: await freePort(), bindAddress: '127.0.0.1' },
        logging: { level: 'error' },
        issuers: [{ issuer: ISS, jwksUri, audiences: ['api'], algorithms: ['ES256'] }],
        ssf: {
          transmitters: [
            {
              name: 'bench',
              issuer: TX,
              jwksUri,
              algorithms: ['ES256'],
              audience: AUD,
              resolver: { issuer: ISS },
              delivery: {
                push: { tokenSha256: createHash('sha256').update(PUSH_TOKEN).digest('hex') },
              },
            },
          ],
        },
      }),
    );
    const url = `http://127.0.0.1:${httpPort}`;
    const child = await startProcess(
      [
        '--disable-proto=delete',
        ...(process.env.SSF_BENCH_PROFILE
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SSF_BENCH_PROFILE}`]
          : []),
        join(__dirname, '../apps/resolver/src/main.js'),
      ],
      { PATH: process.env.PATH, RESOLVER_CONFIG: config, DATABASE_URL: db.url },
      async () => (await fetch(`${url}/health/ready`)).ok,
      undefined,
    );
    children.push(child);

    const now = Math.floor(Date.now() / 1000);
    const es256 = (input: string, key: typeof keys.privateKey) =>
      sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const set = (i: number): string => {
      const type =
        i % 2 === 0
          ? 'https://schemas.openid.net/secevent/risc/event-type/account-disabled'
          : 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
      const input = `${b64({ alg: 'ES256', typ: 'secevent+jwt', kid: 'tx-1' })}.${b64({
        iss: TX,
        aud: AUD,
        iat: now,
        jti: randomUUID(),
        sub_id: { format: 'iss_sub', iss: ISS, sub: `u${(i % users) + 1}` },
        events: { [type]: { event_timestamp: now - 1 } },
      })}`;
      return `${input}.${es256(input, keys.privateKey)}`;
    };
    const warmup = Array.from({ length: 50 }, (_, i) => set(users - 1 - i));
    const timed = Array.from({ length: SETS }, (_, i) => set(i));
    const push = async (body: string) => {
      const res = await fetch(`${url}/ssf/push/bench`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${PUSH_TOKEN}`,
          'content-type': 'application/secevent+jwt',
        },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`push answered ${res.status}`);
    };
    const drive = async (items: readonly string[], one: (item: string) => Promise<void>) => {
      let next = 0;
      const t0 = performance.now();
      const cpu0 = treeCpuSeconds(child.pid);
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < items.length) await one(items[next++] as string);
        }),
      );
      return {
        cpuUs: ((treeCpuSeconds(child.pid) - cpu0) * 1e6) / items.length,
        rps: items.length / ((performance.now() - t0) / 1000),
      };
    };
    for (const s of warmup) await push(s);
    const pushed = await drive(timed, push);

    // The same client loop on warm /v1/resolve, for scale.
    const tokenInput = `${b64({ alg: 'ES256', typ: 'JWT', kid: 'tx-1' })}.${b64({
      iss: ISS,
      aud: 'api',
      sub: `u${users}`,
      iat: now,
      exp: now + 3600,
    })}`;
    const token = `${tokenInput}.${es256(tokenInput, keys.privateKey)}`;
    const resolve = async () => {
      const res = await fetch(`${url}/v1/resolve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`resolve answered ${res.status}`);
    };
    await resolve();
    const warm = await drive(
      Array.from({ length: SETS }, () => ''),
      resolve,
    );

    log(
      `ssf push: ${SETS} SETs, concurrency ${CONCURRENCY}: ${pushed.cpuUs.toFixed(0)} µs server CPU per SET, ${pushed.rps.toFixed(0)} SETs/s`,
    );
    log(
      `warm /v1/resolve, same client: ${warm.cpuUs.toFixed(0)} µs server CPU per request, ${warm.rps.toFixed(0)} req/s`,
    );
  } finally {
    for (const c of children) await stop(c);
    await new Promise((r) => jwks.close(r));
    await db.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(String((error as Error).stack ?? error));
  process.exit(1);
});
