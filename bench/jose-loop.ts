import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import { argMap, type RunResult, runBenchChild } from './stats';

/**
 * The cold-token baseline: a tight loop of jose `jwtVerify` over the benchmark's tokens for
 * `--seconds`, in its own process so it runs on the same core the server is pinned to.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  const key = createPublicKey(readFileSync(a.key as string, 'utf8'));
  const options = { issuer: a.issuer, audience: a.audience, algorithms: ['ES256'] };
  const until = Date.now() + Number(a.seconds ?? 3) * 1000;
  const started = performance.now();
  let n = 0;
  while (Date.now() < until) {
    await jwtVerify(tokens[n % tokens.length] as string, key, options);
    n++;
  }
  const out: RunResult = {
    rps: n / ((performance.now() - started) / 1000),
    p50Ms: 0,
    p99Ms: 0,
    p999Ms: 0,
    errors: 0,
    requests: n,
  };
  return out;
}

runBenchChild(main);
