import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import {
  GENERATOR_BOUND_PCT,
  type GeneratorResult,
  runH2load,
  runNodeGenerator,
  runWrk,
} from './generators';
import { GRPC_PATH, type GrpcMethodName, grpcFrame } from './grpc-frames';
import type { BenchOptions } from './options';
import { log, machineTicks, rssMb, treeCpuSeconds } from './processes';
import type { Row } from './report';
import type { PerRound } from './targets';

/** One load run against a server: its generator's result. */
export type Gen = () => Promise<GeneratorResult>;

/** A server a run measures: its process (CPU, RSS) and, for a resolver, its metrics URL. */
export interface Measured {
  readonly child: ChildProcess;
  readonly metricsUrl?: string;
}

/**
 * Runs the load generators against the servers and keeps what they measured: every run as a
 * row of its series, and the ratios of each scenario over its baseline, round by round.
 */
export class Runner {
  /** Every run, by scenario and transport, in round order. */
  readonly series: Record<string, Row[]> = {};
  readonly perRound: PerRound = {};
  private readonly lines = new Map<string, number>();
  private readonly frames = new Map<string, string>();
  private h2log = 0;
  /**
   * With --profile: when each run began and ended on the monotonic clock the servers' V8 CPU
   * profiles use (microseconds), so a profile can be cut to one run (bench/profile-windows.json).
   */
  readonly windows: { scenario: string; transport: string; startUs: number; endUs: number }[] = [];

  constructor(
    private readonly o: BenchOptions,
    private readonly present: { wrk: boolean; h2load: boolean },
    private readonly work: string,
    private readonly dist: string,
  ) {}

  private get load(): string | undefined {
    return this.o.pinning?.load;
  }

  /** The number of tokens in a token file. */
  tokenLines(file: string): number {
    let n = this.lines.get(file);
    if (n === undefined) {
      n = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
      this.lines.set(file, n);
    }
    return n;
  }

  /** `duration` s of `method path` with the file's tokens: wrk, or autocannon without it. */
  httpTimed(url: string, tokens: string, method: 'GET' | 'POST', path: string): Gen {
    const { duration, connections } = this.o;
    return this.present.wrk
      ? () =>
          runWrk({
            url,
            method,
            path,
            tokensFile: tokens,
            duration,
            connections,
            cpuset: this.load,
          })
      : () =>
          runNodeGenerator(
            'autocannon',
            join(this.dist, 'bench', 'load-http.js'),
            { url, tokens, method, path, connections, duration },
            this.load,
          );
  }

  /** Exactly `amount` requests (autocannon), `POST /v1/resolve` unless told. */
  httpCount(
    url: string,
    tokens: string,
    amount: number,
    method = 'POST',
    path = '/v1/resolve',
  ): Gen {
    return () =>
      runNodeGenerator(
        'autocannon',
        join(this.dist, 'bench', 'load-http.js'),
        { url, tokens, method, path, connections: Math.min(this.o.connections, amount), amount },
        this.load,
      );
  }

  /** One gRPC frame (of `token`) repeated: h2load, after one call shows its answer is OK. */
  grpcRepeated(address: string, method: GrpcMethodName, token: string, tokenFile: string): Gen {
    const { duration, sessions, streams, connections } = this.o;
    if (!this.present.h2load)
      return method === 'resolve'
        ? () =>
            runNodeGenerator(
              'grpc-js',
              join(this.dist, 'bench', 'load-grpc.js'),
              { address, tokens: tokenFile, connections, duration },
              this.load,
            )
        : this.grpcTokens(address, tokenFile, method);
    return async () => {
      const frameFile = this.frameFile(method, token);
      await probeGrpc(address, method, readFileSync(frameFile));
      return runH2load({
        address,
        path: GRPC_PATH[method],
        frameFile,
        duration,
        sessions,
        streams,
        logFile: join(this.work, `h2load-${this.h2log++}.log`),
        cpuset: this.load,
      });
    };
  }

  /** A token per call: our node:http2 generator (h2load repeats one body). */
  grpcTokens(address: string, tokens: string, method: GrpcMethodName, amount?: number): Gen {
    const { duration, sessions, streams } = this.o;
    return () =>
      runNodeGenerator(
        'node:http2',
        join(this.dist, 'bench', 'load-h2.js'),
        {
          address,
          tokens,
          method,
          connections: sessions,
          streams,
          ...(amount ? { amount } : { duration }),
        },
        this.load,
      );
  }

  private frameFile(method: GrpcMethodName, token: string): string {
    const key = `${method}\u0000${token}`;
    let file = this.frames.get(key);
    if (!file) {
      file = join(this.work, `frame-${this.frames.size}-${method}.bin`);
      writeFileSync(file, grpcFrame(method, token));
      this.frames.set(key, file);
    }
    return file;
  }

  /**
   * One run against one server, with that server's CPU time and RSS; kept in its series.
   * `tokens`: the file of fresh tokens it sent, to flag a resolver run that repeated some.
   */
  async measure(
    scenario: string,
    transport: Row['transport'],
    server: Measured,
    run: Gen,
    tokens?: string,
  ): Promise<Row> {
    const before = treeCpuSeconds(server.child.pid);
    const ticksBefore = machineTicks();
    const gcBefore = await gcTotals(server.metricsUrl);
    const startUs = monotonicUs();
    const r = await run();
    if (this.o.profileDir)
      this.windows.push({ scenario, transport, startUs, endUs: monotonicUs() });
    const cpu = treeCpuSeconds(server.child.pid) - before;
    const ticksAfter = machineTicks();
    const ticks = ticksAfter.total - ticksBefore.total;
    const row: Row = {
      ...r,
      scenario,
      transport,
      generatorBound: r.generatorCpuPct >= GENERATOR_BOUND_PCT,
      // Only a resolver caches verified tokens: a baseline verifies a repeated token again.
      tokensRepeated: tokens && server.metricsUrl ? r.requests > this.tokenLines(tokens) : false,
      rssMb: rssMb(server.child.pid, 'VmRSS'),
      ...(await v8Heap(server.metricsUrl)),
      ...gcPerRequest(gcBefore, await gcTotals(server.metricsUrl), r.requests),
      cpuUsPerRequest: r.requests ? (cpu * 1e6) / r.requests : undefined,
      stealPct: ticks > 0 ? (100 * (ticksAfter.steal - ticksBefore.steal)) / ticks : undefined,
    };
    log(
      `  ${scenario} ${transport}: ${row.rps.toFixed(0)} req/s, p99 ${row.p99Ms.toFixed(1)} ms, ` +
        `${row.cpuUsPerRequest?.toFixed(0)} µs/req, ${r.generator} at ${r.generatorCpuPct.toFixed(0)}% of its core` +
        (row.gcUsPerRequest !== undefined
          ? `, GC ${row.gcUsPerRequest.toFixed(1)} µs/req (${row.majorGcs} major)`
          : '') +
        (row.errors ? `, ${row.errors} errors` : ''),
    );
    (this.series[`${scenario}\u0000${transport}`] ??= []).push(row);
    return row;
  }

  /** Records `a / b` for this round under `name` (a ratio of req/s or of p99). */
  ratio(name: string, a: Row | undefined, b: Row | undefined, key: 'rps' | 'p99Ms' | 'cpu'): void {
    if (!a || !b) return;
    const value = (r: Row) => (key === 'cpu' ? (r.cpuUsPerRequest ?? NaN) : r[key]);
    const entry = (this.perRound[name] ??= { values: [], bound: false });
    entry.values.push(value(b) ? value(a) / value(b) : NaN);
    entry.bound ||= a.generatorBound || b.generatorBound;
  }

  /** The median round of every series, with every round's req/s. */
  medianRows(): Row[] {
    return Object.entries(this.series).map(([key, rs]) => {
      const by: 'rps' | 'p99Ms' =
        key.includes('open loop') || key.startsWith('IdP') ? 'p99Ms' : 'rps';
      const sorted = [...rs].sort((x, y) => x[by] - y[by]);
      return {
        ...(sorted[Math.floor((sorted.length - 1) / 2)] as Row),
        roundsRps: rs.map((r) => r.rps),
        generatorBound: rs.some((r) => r.generatorBound),
        errors: rs.reduce((n, r) => n + r.errors, 0),
      };
    });
  }
}

/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profile timestamps. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** A resolver's V8 heap (MB, summed over workers) from its own metrics; nothing for a baseline. */
async function v8Heap(
  metricsUrl: string | undefined,
): Promise<{ heapUsedMb?: number; heapTotalMb?: number }> {
  if (!metricsUrl) return {};
  try {
    const text = await (await fetch(metricsUrl)).text();
    const mb = (name: string) => {
      const v = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
      return v ? Number(v) / 2 ** 20 : undefined;
    };
    return {
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    };
  } catch {
    return {};
  }
}

interface GcTotals {
  readonly seconds: number;
  readonly major: number;
}

/**
 * A resolver's GC pauses so far, from its own metrics (prom-client's `nodejs_gc_duration_seconds`,
 * every kind summed; major = mark-compact runs): what a heap cap costs shows here first, and
 * counts of collections do not depend on what else shares the core.
 */
async function gcTotals(metricsUrl: string | undefined): Promise<GcTotals | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const text = await (await fetch(metricsUrl)).text();
    let seconds = 0;
    let major = 0;
    for (const m of text.matchAll(
      /^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} (\S+)$/gm,
    )) {
      if (m[1] === 'sum') seconds += Number(m[3]);
      else if (m[2] === 'major') major += Number(m[3]);
    }
    return { seconds, major };
  } catch {
    return undefined;
  }
}

function gcPerRequest(
  before: GcTotals | undefined,
  after: GcTotals | undefined,
  requests: number,
): { gcUsPerRequest?: number; majorGcs?: number } {
  if (!before || !after || !requests) return {};
  return {
    gcUsPerRequest: ((after.seconds - before.seconds) * 1e6) / requests,
    majorGcs: after.major - before.major,
  };
}

/** One call with `method`'s frame over plain HTTP/2: throws unless grpc-status is 0. */
function probeGrpc(address: string, method: GrpcMethodName, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.once('error', reject);
    let status: string | undefined;
    const req = session.request({
      ':method': 'POST',
      ':path': GRPC_PATH[method],
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('response', (h: Record<string, string | string[] | undefined>) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    });
    req.on('trailers', (t: Record<string, string | string[] | undefined>) => {
      status = String(t['grpc-status']);
    });
    req.on('data', () => undefined);
    req.once('close', () => {
      session.close();
      if (status === '0') resolve();
      else reject(new Error(`${GRPC_PATH[method]} at ${address}: grpc-status ${status}`));
    });
    req.end(frame);
  });
}
