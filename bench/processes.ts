import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { processCpuSeconds } from './generators';

export const log = (line: string) => process.stderr.write(`${line}\n`);

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Which cores the servers and the load generators run on; undefined: not pinned. */
export interface Pinning {
  readonly server: string;
  readonly load: string;
}

/** The command line for `node args`, under `taskset -c cpuset` when given. */
export function pinned(args: readonly string[], cpuset?: string): [string, string[]] {
  return cpuset
    ? ['taskset', ['-c', cpuset, process.execPath, ...args]]
    : [process.execPath, [...args]];
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) used so far by a process and its children (cluster workers). */
export function treeCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  let total = 0;
  for (const p of [pid, ...childPids(pid)]) total += processCpuSeconds(p) ?? 0;
  return total;
}

/** The machine's CPU ticks, all cores together: total, and stolen by the hypervisor. */
export function machineTicks(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1);
    const n = (fields ?? []).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    return { total: n.slice(0, 8).reduce((a, b) => a + b, 0), steal: n[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

/**
 * Resident set size (MB) of a process or its largest child (cluster workers): `VmRSS` now, or
 * `VmHWM`, the peak since it started.
 */
export function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (!pid) return undefined;
  const read = (p: number) => {
    try {
      const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(
        readFileSync(`/proc/${p}/status`, 'utf8'),
      )?.[1];
      return kb ? Number(kb) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  return Math.max(read(pid), ...childPids(pid).map(read));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts `node args` (pinned when `cpuset` is given) and waits until `ready()` says so. */
export async function startProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  cpuset: string | undefined,
): Promise<ChildProcess> {
  const [cmd, cmdArgs] = pinned(args, cpuset);
  const child = spawn(cmd, cmdArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await ready().catch(() => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`process did not become ready:\n${output}`);
}

export async function stop(child: ChildProcess | undefined): Promise<void> {
  // A baseline has no SIGTERM handler: it ends with a signal code, not an exit code.
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** True once something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((r) => {
    const s = createServer();
    s.once('error', () => r(true));
    s.listen(port, '127.0.0.1', () => s.close(() => r(false)));
  });
}

/**
 * Makes sure wrk and h2load are installed: apt-installs them as root on Debian (like
 * scripts/ensure-test-tools.sh), otherwise names the packages. Returns which are present.
 */
export function ensureGenerators(): { wrk: boolean; h2load: boolean } {
  const missing = [
    ['wrk', 'wrk'],
    ['h2load', 'nghttp2-client'],
  ].filter(([cmd]) => !hasCommand(cmd as string));
  if (missing.length) {
    const packages = missing.map(([, pkg]) => pkg as string);
    const root = process.getuid?.() === 0;
    if (root && hasCommand('apt-get')) {
      log(`installing ${packages.join(', ')} (apt-get)`);
      try {
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
          stdio: 'ignore',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      } catch {
        execFileSync('apt-get', ['update'], { stdio: 'ignore' });
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
          stdio: 'ignore',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      }
    } else {
      log(
        `missing load generators: install the Debian packages ${packages.join(' and ')} ` +
          `(apt-get install ${packages.join(' ')}); falling back to Node generators, whose rows are flagged generator-bound when they use their whole core`,
      );
    }
  }
  return { wrk: hasCommand('wrk'), h2load: hasCommand('h2load') };
}
