import { readFileSync } from 'node:fs';
import { fireBurst } from './burst-client';
import { argMap, ownCpuSeconds, type RunResult, runBenchChild } from './stats';

/**
 * The burst generator (a process of its own, on the load cores): every token of `--tokens` sent
 * `--per-subject` times, all at once, split over the replicas `--urls` (comma-separated). Prints
 * one JSON RunResult, with every answer by status and reason.
 */
async function main(): Promise<RunResult & { answers: Readonly<Record<string, number>> }> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  const cpuBefore = ownCpuSeconds();
  const burst = await fireBurst(
    (a.urls as string).split(','),
    tokens,
    Number(a['per-subject'] ?? 10),
  );
  return {
    rps: burst.requests / (burst.wallMs / 1000),
    p50Ms: burst.p50Ms,
    p99Ms: burst.p99Ms,
    p999Ms: burst.p999Ms,
    errors: burst.requests - (burst.answers['200'] ?? 0),
    requests: burst.requests,
    generatorCpuSeconds: ownCpuSeconds() - cpuBefore,
    answers: burst.answers,
  };
}

runBenchChild(main);
