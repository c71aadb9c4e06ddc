import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { DPOP_URL } from './scenario-dpop';
import { argMap, ownCpuSeconds, type RunResult, runBenchChild } from './stats';

/**
 * HTTP load generator in Node (autocannon, a separate process from the server), closed loop at
 * full speed: `--method` (POST) `--path` (/v1/resolve) with tokens from a file, round-robin, as
 * `Authorization: Bearer`. `--amount` bounds the run by request count (each token used at most
 * once when amount <= tokens), else `--duration` seconds. wrk drives the timed runs; this one
 * drives the count-bounded runs and is the fallback where wrk is missing: the table flags its
 * rows generator-bound when it used its whole core. Prints one JSON RunResult.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  let next = 0;
  const cpuBefore = ownCpuSeconds();
  const result = await autocannon({
    url: `${a.url}${a.path ?? '/v1/resolve'}`,
    method: a.method ?? 'POST',
    connections: Number(a.connections ?? 32),
    ...(a.amount ? { amount: Number(a.amount) } : { duration: Number(a.duration ?? 10) }),
    requests: [
      {
        setupRequest: (req) => {
          const line = tokens[next++ % tokens.length] as string;
          // `token<TAB>proof`: a DPoP-bound token and its proof, as nginx forwards them.
          const tab = line.indexOf('\t');
          if (tab < 0)
            return { ...req, headers: { ...req.headers, authorization: `Bearer ${line}` } };
          const headers = {
            ...req.headers,
            authorization: `DPoP ${line.slice(0, tab)}`,
            dpop: line.slice(tab + 1),
            'x-original-method': 'GET',
            'x-original-url': DPOP_URL,
          };
          return { ...req, headers };
        },
      },
    ],
  });
  return {
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
    generatorCpuSeconds: ownCpuSeconds() - cpuBefore,
  };
}

runBenchChild(main);
