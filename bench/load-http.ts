import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { argMap, type RunResult, runBenchChild } from './stats';

/** The wrk script; it stays in the source tree (dist/bench -> ../../bench). */
const WRK_SCRIPT = join(__dirname, '..', '..', 'bench', 'wrk-resolve.lua');

/**
 * wrk (C, one thread): far cheaper per request than a Node load generator, so on a small
 * machine the generator does not take the CPU the server under test needs.
 */
function runWrk(a: Record<string, string>): RunResult {
  const connections = a.connections ?? '32';
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${connections}`,
      `-d${a.duration ?? '10'}s`,
      '--timeout',
      '10s',
      '-s',
      WRK_SCRIPT,
      `${a.url}/v1/resolve`,
      '--',
      a.tokens as string,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const line = out
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`unexpected wrk output:\n${out}`);
  const r = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    socketErrors: number;
    non2xx: number;
    p50: number;
    p99: number;
    p999: number;
  };
  return {
    rps: r.requests / (r.durationUs / 1e6),
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    p999Ms: r.p999 / 1000,
    errors: r.socketErrors + r.non2xx,
    requests: r.requests,
  };
}

async function runAutocannon(a: Record<string, string>, tokens: string[]): Promise<RunResult> {
  let next = 0;
  const result = await autocannon({
    url: `${a.url}/v1/resolve`,
    method: 'POST',
    connections: Number(a.connections ?? 32),
    ...(a.amount ? { amount: Number(a.amount) } : { duration: Number(a.duration ?? 10) }),
    requests: [
      {
        setupRequest: (req) => {
          const token = tokens[next++ % tokens.length];
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
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
  };
}

/**
 * HTTP load generator (a separate process from the server), closed loop at full speed:
 * POST /v1/resolve with tokens from a file, round-robin. `--amount` bounds the run by request
 * count (each token used at most once when amount <= tokens), else `--duration` seconds.
 * `--generator wrk|autocannon`; runs bounded by count use autocannon (wrk runs for its whole
 * `-d` even once its threads stop). Prints one JSON RunResult.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  if (a.generator === 'wrk' && !a.amount) return runWrk(a);
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  return runAutocannon(a, tokens);
}

runBenchChild(main);
