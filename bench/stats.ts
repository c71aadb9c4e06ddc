import { readFileSync } from 'node:fs';

/** One measured run, in the units the table prints. */
export interface RunResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly errors: number;
  readonly requests: number;
  /** A Node generator's own CPU seconds over its run (from /proc/self/stat). */
  readonly generatorCpuSeconds?: number;
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Parses `--name value` pairs into a record (bench children take their options this way). */
export function argMap(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2)
    out[(argv[i] ?? '').replace(/^--/, '')] = argv[i + 1] ?? '';
  return out;
}

/** A latency-sample run's result: sorts `latencies` (ms) in place. */
export function summarize(latencies: number[], seconds: number, errors: number): RunResult {
  latencies.sort((x, y) => x - y);
  return {
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    errors,
    requests: latencies.length,
  };
}

/** Runs a bench child's main: its result goes to stdout as one JSON line, a failure exits 1. */
export function runBenchChild(main: () => Promise<RunResult | void>): void {
  // A server's --cpu-prof is written only on a normal exit: the bench stops servers with SIGTERM.
  if (process.execArgv.includes('--cpu-prof')) process.once('SIGTERM', () => process.exit(0));
  main().then(
    (result) => {
      if (result) process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * This process's own CPU time (user + system, seconds) from /proc/self/stat: a Node generator
 * reads it around its run, so its startup (loading and encoding tokens) is not counted.
 */
export function ownCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}
