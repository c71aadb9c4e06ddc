import type { GrpcResult } from '../support/grpc-client';

/** One answered (or failed) request, transport-neutral. */
export interface Sample {
  readonly transport: 'http' | 'grpc';
  /** HTTP status; gRPC codes are mapped (OK 200, UNAUTHENTICATED 401, PERMISSION_DENIED 403, UNAVAILABLE 503, else 500). */
  readonly status: number;
  readonly reason?: string;
  /** Set when there was no answer at all (connection refused/reset, transport-level failure). */
  readonly error?: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export type Answer = Omit<Sample, 'startedAt' | 'endedAt'>;

const GRPC_TO_HTTP: Record<number, number> = { 0: 200, 16: 401, 7: 403, 14: 503 };

/** A gRPC result as a sample answer; UNAVAILABLE without our ErrorInfo is a transport failure. */
export function grpcAnswer(result: GrpcResult): Answer {
  if (result.ok) return { transport: 'grpc', status: 200 };
  if (result.reason === undefined)
    return { transport: 'grpc', status: 0, error: `grpc ${result.code}: ${result.message}` };
  return { transport: 'grpc', status: GRPC_TO_HTTP[result.code] ?? 500, reason: result.reason };
}

/** POSTs /v1/resolve; a network error is an answer with `error` set. */
export async function httpAnswer(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    const res = await fetch(`${url}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    const body = (await res.json().catch(() => ({}))) as { reason?: string };
    return { transport: 'http', status: res.status, reason: body.reason };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { transport: 'http', status: 0, error: cause ?? String(error) };
  }
}

/**
 * Bounded load on loopback: `workers` loops, each firing one request at a time (so at most
 * `workers` are in flight) with a short pause, until `keepGoing()` turns false or `maxRequests`
 * have been sent in total.
 */
export async function runLoad(options: {
  workers: number;
  maxRequests: number;
  keepGoing: () => boolean;
  shot: (worker: number, n: number) => Promise<Answer>;
  pauseMs?: number;
}): Promise<Sample[]> {
  const samples: Sample[] = [];
  let sent = 0;
  const worker = async (w: number) => {
    for (let n = 0; options.keepGoing() && sent < options.maxRequests; n++) {
      sent++;
      const startedAt = Date.now();
      const answer = await options.shot(w, n);
      samples.push({ ...answer, startedAt, endedAt: Date.now() });
      await sleep(options.pauseMs ?? 5);
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return samples;
}

/** Runs `tasks` with at most `limit` in flight. */
export async function withConcurrency<T>(
  limit: number,
  tasks: readonly (() => Promise<T>)[],
): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

/** Counts samples by `status reason` (or `error`), for summaries and failure messages. */
export function tally(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const key = s.error ? `no answer (${s.error})` : `${s.status} ${s.reason ?? ''}`.trim();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
