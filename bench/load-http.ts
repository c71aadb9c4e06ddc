import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { argMap, type RunResult } from './stats';

/**
 * HTTP load generator (a separate process from the server): POST /v1/resolve with tokens from a
 * file, round-robin. `--amount` bounds the run by request count (each token used at most once
 * when amount <= tokens), else `--duration` seconds. Prints one JSON RunResult.
 */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  let next = 0;
  const result = await autocannon({
    url: `${a.url}/v1/resolve`,
    method: 'POST',
    connections: Number(a.connections ?? 32),
    ...(a.amount ? { amount: Number(a.amount) } : { duration: Number(a.duration ?? 10) }),
    ...(a.rate ? { overallRate: Number(a.rate) } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const token = tokens[next++ % tokens.length];
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
        },
      },
    ],
  });
  const out: RunResult = {
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
