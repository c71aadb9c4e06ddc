import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { percentile, type RunResult } from './stats';

/** A generator run's result, with what the generator itself cost. */
export interface GeneratorResult extends RunResult {
  /** Which program drove the load. */
  readonly generator: string;
  /** CPU the generator process used, as % of one core, over its run. */
  readonly generatorCpuPct: number;
}

/** A generator at or above this share of its core measured itself, not the server. */
export const GENERATOR_BOUND_PCT = 90;

const CLK_TCK = 100;

/** utime + stime of one process, in seconds, from /proc/<pid>/stat; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": utime is field 14, stime field 15 (1-based, whole line).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Runs a generator (`cmd args`, under `taskset -c cpuset` when given) and samples its own CPU
 * time from /proc/<pid>/stat every 50 ms until it exits (its last sample is at most 50 ms short).
 * Returns stdout, CPU seconds and wall seconds.
 */
export function spawnGenerator(
  cmd: string,
  args: readonly string[],
  cpuset: string | undefined,
): Promise<{ stdout: string; cpuSeconds: number; wallSeconds: number }> {
  const [file, argv] = cpuset ? ['taskset', ['-c', cpuset, cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let cpu = 0;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    // taskset execs the program: the pid is the generator's own.
    const sample = setInterval(() => {
      const s = child.pid ? processCpuSeconds(child.pid) : undefined;
      if (s !== undefined) cpu = s;
    }, 50);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sample);
      const wallSeconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ stdout, cpuSeconds: cpu, wallSeconds });
      else reject(new Error(`${cmd} exited ${code}: ${stderr}`));
    });
  });
}

const pct = (cpu: number, seconds: number) => (seconds > 0 ? (100 * cpu) / seconds : 0);

/** wrk (C, one thread): `method path` with the tokens of `tokensFile`, for `duration` s. */
export async function runWrk(o: {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  tokensFile: string;
  duration: number;
  connections: number;
  cpuset?: string;
}): Promise<GeneratorResult> {
  const script = join(__dirname, '..', '..', 'bench', 'wrk-resolve.lua');
  const run = await spawnGenerator(
    'wrk',
    [
      '-t1',
      `-c${o.connections}`,
      `-d${o.duration}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      `${o.url}${o.path}`,
      '--',
      o.tokensFile,
      o.method,
      o.path,
    ],
    o.cpuset,
  );
  const line = run.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`unexpected wrk output:\n${run.stdout}`);
  const r = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    socketErrors: number;
    non2xx: number;
    p50: number;
    p99: number;
    p999: number;
  };
  const seconds = r.durationUs / 1e6;
  return {
    generator: 'wrk',
    rps: r.requests / seconds,
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    p999Ms: r.p999 / 1000,
    errors: r.socketErrors + r.non2xx,
    requests: r.requests,
    generatorCpuPct: pct(run.cpuSeconds, seconds),
  };
}

/**
 * h2load (C, one thread): the same prebuilt gRPC frame (`frameFile`) POSTed to `path` for
 * `duration` s over `sessions` connections with `streams` calls in flight on each, with gRPC's
 * request headers. Latencies come from its per-request log. h2load counts HTTP statuses only:
 * the caller checks one call's grpc-status first (every call sends the same bytes).
 */
export async function runH2load(o: {
  address: string;
  path: string;
  frameFile: string;
  duration: number;
  sessions: number;
  streams: number;
  logFile: string;
  cpuset?: string;
}): Promise<GeneratorResult> {
  const run = await spawnGenerator(
    'h2load',
    [
      '-t1',
      `-c${o.sessions}`,
      `-m${o.streams}`,
      '-D',
      String(o.duration),
      '-d',
      o.frameFile,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      `--log-file=${o.logFile}`,
      `http://${o.address}${o.path}`,
    ],
    o.cpuset,
  );
  const done =
    /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      run.stdout,
    );
  const finished = /finished in ([\d.]+)(m?s)/.exec(run.stdout);
  if (!done || !finished) throw new Error(`unexpected h2load output:\n${run.stdout}`);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const log = await readFile(o.logFile, 'utf8');
  // Each line: start time (µs since the run began), HTTP status, duration (µs).
  const latencies: number[] = [];
  for (const line of log.split('\n')) {
    const parts = line.split('\t');
    if (parts.length >= 3) latencies.push(Number(parts[2]) / 1000);
  }
  latencies.sort((x, y) => x - y);
  const requests = Number(done[1]);
  return {
    generator: 'h2load',
    rps: requests / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    errors: requests - Number(done[2]) + Number(done[4]) + Number(done[5]),
    requests,
    generatorCpuPct: pct(run.cpuSeconds, seconds),
  };
}

/** One of the bench's Node generators (`dist/bench/<script>`), which prints one JSON RunResult. */
export async function runNodeGenerator(
  name: string,
  script: string,
  args: Record<string, string | number>,
  cpuset?: string,
): Promise<GeneratorResult> {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const run = await spawnGenerator(process.execPath, [script, ...argv], cpuset);
  const r = JSON.parse(run.stdout.trim().split('\n').pop() as string) as RunResult;
  // Over its run only (its startup, reading and encoding tokens, is outside it) when it says so.
  const seconds = r.rps > 0 ? r.requests / r.rps : run.wallSeconds;
  const cpu = r.generatorCpuSeconds ?? run.cpuSeconds;
  return { ...r, generator: name, generatorCpuPct: pct(cpu, Math.max(seconds, 0.001)) };
}
