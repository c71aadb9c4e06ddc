import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import * as jose6 from 'jose';
import type { CryptoKey, JWK } from 'jose';
import * as jose5 from 'jose-v5';
import { buildConfig, type IssuerConfig } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import {
  decodeCompactToken,
  type DecodedToken,
  IssuerVerifier,
  type KeySource,
} from '@resolver/tokens';
import { argMap } from './stats';

/**
 * Signature verification alone, in one process: jose 5.10's `compactVerify` (what the signature
 * step ran before: `promisify(crypto.verify)`, its key imported once as the step cached it),
 * jose 6's (WebCrypto, key imported once) and the step as it is now (`IssuerVerifier.
 * checkSignature`: `node:crypto`'s synchronous `verify` on a cached KeyObject), per algorithm,
 * alternating over the rounds. Bounded: `--ms` per measurement. Besides verifications per
 * second it prints the process CPU time per verification (libuv's pool threads included),
 * which a busy shared machine disturbs less than the wall clock.
 *
 *   npm run build && taskset -c 1 node dist/bench/verify-micro.js [--ms 1000] [--rounds 3]
 *     [--algs RS256,PS256,ES256,EdDSA] [--inflight 1]
 *   # a fixed amount of work, for `valgrind --tool=callgrind`:
 *   node dist/bench/verify-micro.js --algs RS256 --iterations 2000 --only jose5|jose6|node
 *
 * `--inflight N` keeps N verifications in flight (jose's run on libuv's thread pool, so N > 1
 * lets its pool threads overlap on a machine with free cores; pinned to one core, they cannot).
 */

const args = argMap(process.argv.slice(2));
const MS = Number(args.ms ?? 1000);
const ROUNDS = Number(args.rounds ?? 3);
const ALGS = (args.algs ?? 'RS256,PS256,ES256,EdDSA').split(',');
const INFLIGHT = Math.max(1, Number(args.inflight ?? 1));
const ITERATIONS = args.iterations === undefined ? undefined : Number(args.iterations);
const TOKENS = 64;

interface Subject {
  readonly alg: string;
  readonly tokens: readonly string[];
  readonly decoded: readonly DecodedToken[];
  readonly key: KeyObject;
  readonly cryptoKey: CryptoKey;
  readonly jwk: JWK;
  readonly verifier: IssuerVerifier;
}

/**
 * Published example keys (RFC 7520 §3.2 and §3.4, RFC 7515 A.3, RFC 8037 A.1), so a fixed-work
 * run does the same work every time: RSA key generation alone varies by hundreds of millions of
 * instructions between runs.
 */
const EXAMPLE_KEYS: Readonly<Record<string, JsonWebKey>> = {
  RSA: {
    kty: 'RSA',
    n:
      'n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMa' +
      'JMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6c' +
      'S6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwd' +
      'q_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw',
    e: 'AQAB',
    d:
      'bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3X' +
      'TGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLYGqOe' +
      '04noqeq1hExBTHBOBdkMXiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kKhyv07' +
      'lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ',
    p:
      '3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N' +
      '2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k',
    q:
      'uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHT' +
      'eZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc',
    dp:
      'B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt2' +
      '6gljYfKU_E9xn-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX59ehik',
    dq:
      'CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5' +
      'iTbwQGIC3gnJKbi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdKT1cYF8',
    qi:
      '3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfB' +
      'dYkssbu0NKDDhjJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpPz8aaI4',
  },
  ES256: {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
  },
  ES512: {
    kty: 'EC',
    crv: 'P-521',
    x: 'AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt',
    y: 'AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1',
    d: 'AAhRON2r9cqXX1hg-RoI6R1tX5p2rUAYdmpHZoC1XNM56KtscrX6zbKipQrCW9CGZH3T4ubpnoTKLDYJ_fF3_rJt',
  },
  EdDSA: {
    kty: 'OKP',
    crv: 'Ed25519',
    x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
    d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  },
};

function keyPair(alg: string): KeyObject {
  const example = EXAMPLE_KEYS[/^(RS|PS)/.test(alg) ? 'RSA' : alg];
  if (example) return createPrivateKey({ key: example, format: 'jwk' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  throw new Error(`--algs: ${alg} is not one of RS*, PS*, ES*, EdDSA`);
}

async function subject(alg: string): Promise<Subject> {
  const privateKey = keyPair(alg);
  const key = createPublicKey(privateKey);
  const jwk = key.export({ format: 'jwk' }) as JWK;
  const issuer = 'https://micro.bench.local';
  const config = buildConfig(
    {
      database: { url: 'postgres://unused/unused' },
      logging: { level: 'silent' },
      issuers: [{ issuer, jwksUri: `${issuer}/jwks`, algorithms: [alg], audiences: ['bench'] }],
    },
    {},
    { source: 'bench', baseDir: '.' },
  ).issuers[0] as IssuerConfig;
  const keys: KeySource = {
    keysFor: () => Promise.resolve([jwk]),
    // Held, as a fetched key set is between refreshes: the key step answers with no promise.
    heldKeys: () => [jwk],
    state: () => ({ kind: 'jwks', status: 'ok', keyIds: [], degraded: false }),
  };
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const payload = JSON.stringify({ iss: issuer, sub: `u${i}`, aud: 'bench', iat: 1_800_000_000 });
    tokens.push(
      await new jose6.CompactSign(Buffer.from(payload))
        .setProtectedHeader({ alg })
        .sign(privateKey),
    );
  }
  return {
    alg,
    tokens,
    decoded: tokens.map((t) => decodeCompactToken(t, 8192)),
    key,
    cryptoKey: (await jose6.importJWK(jwk, alg)) as CryptoKey,
    jwk,
    verifier: new IssuerVerifier(config, keys, new FixedClock(new Date())),
  };
}

type Verify = (i: number) => unknown;

const paths = {
  jose5: (s: Subject): Verify => {
    return (i) =>
      jose5.compactVerify(s.tokens[i % TOKENS] as string, s.key, { algorithms: [s.alg] });
  },
  jose6: (s: Subject): Verify => {
    return (i) =>
      jose6.compactVerify(s.tokens[i % TOKENS] as string, s.cryptoKey, { algorithms: [s.alg] });
  },
  node: (s: Subject): Verify => {
    return (i) =>
      s.verifier.checkSignature(
        s.tokens[i % TOKENS] as string,
        s.decoded[i % TOKENS] as DecodedToken,
        [s.jwk],
      );
  },
};
type PathName = keyof typeof paths;
const NAMES = Object.keys(paths) as PathName[];
const ONLY = args.only as PathName | undefined;

/** Per second over `MS` ms (or `ITERATIONS` of them), `INFLIGHT` at a time, and CPU µs each. */
async function measure(verify: Verify): Promise<{ perSecond: number; cpuMicros: number }> {
  let count = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + MS;
  const worker = async () => {
    while (ITERATIONS === undefined ? performance.now() < deadline : count < ITERATIONS)
      await verify(count++);
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  const used = process.cpuUsage(cpu);
  return {
    perSecond: (count / (performance.now() - started)) * 1000,
    cpuMicros: (used.user + used.system) / count,
  };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const subjects = await Promise.all(ALGS.map(subject));
  // Every path must accept every token before it is timed.
  for (const s of subjects)
    for (const name of NAMES) for (let i = 0; i < TOKENS; i++) await paths[name](s)(i);

  if (ITERATIONS !== undefined) {
    for (const s of subjects)
      for (const name of NAMES) if (!ONLY || ONLY === name) await measure(paths[name](s));
    console.log(`${ITERATIONS} verifications of ${ALGS.join(', ')} by ${ONLY ?? NAMES.join(', ')}`);
    return;
  }

  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} ` +
      `usable core(s), ${MS} ms per measurement, ${ROUNDS} rounds, ${INFLIGHT} in flight`,
  );
  console.log(
    'alg    | path  | verifies/s (median, µs)  | CPU µs/verify | × jose5 (rate, CPU) | rounds /s',
  );
  for (const s of subjects) {
    const rounds = Object.fromEntries(
      NAMES.map((n) => [n, [] as { perSecond: number; cpuMicros: number }[]]),
    );
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate which goes first, so drift in the machine's load falls on every path.
      for (let k = 0; k < NAMES.length; k++) {
        const name = NAMES[(r + k) % NAMES.length] as PathName;
        rounds[name]?.push(await measure(paths[name](s)));
      }
    }
    const rate = (n: PathName) => median((rounds[n] ?? []).map((x) => x.perSecond));
    const cpu = (n: PathName) => median((rounds[n] ?? []).map((x) => x.cpuMicros));
    for (const name of NAMES) {
      console.log(
        `${s.alg.padEnd(6)} | ${name.padEnd(5)} | ${`${fmt(rate(name))} (${(1e6 / rate(name)).toFixed(1)})`.padEnd(24)} | ` +
          `${cpu(name).toFixed(1).padStart(13)} | ${`${(rate(name) / rate('jose5')).toFixed(2)}, ${(cpu('jose5') / cpu(name)).toFixed(2)}`.padEnd(19)} | ` +
          (rounds[name] ?? []).map((x) => fmt(x.perSecond)).join(', '),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
