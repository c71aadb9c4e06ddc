import { REFERENCE, type Row, type Target } from './report';

/** Each ratio of a scenario over its baseline, one value per round; bound: some round was generator-bound. */
export type PerRound = Record<string, { values: number[]; bound: boolean }>;

/**
 * Bare Fastify (answering POST /v1/resolve without any work) over the recipe with 1,000 tokens:
 * what any handler on this framework reaches, so the ceiling of "warm, 1,000 tokens / the
 * recipe" on this machine. A reference row, with no goal of its own.
 */
export const CEILING_WARM_1K = "bare Fastify / the recipe, 1,000 tokens (that row's ceiling)";

/**
 * The issues' targets (#16, #24), in the order the report prints them: ratios of medians over the
 * rounds against the baseline doing the same work, the IdP-hang and open-loop p99 ratios, the
 * gRPC path's server CPU against the HTTP path's, peak RSS and errors. Targets with no data
 * (a scenario not run) are left out.
 */
export function buildTargets(o: {
  perRound: PerRound;
  rows: readonly Row[];
  users: number;
  peakRssMb: number;
  uniqueTokens: number;
}): Target[] {
  const { perRound, rows, users, peakRssMb, uniqueTokens } = o;
  const find = (s: string, t: Row['transport']) =>
    rows.find((r) => r.scenario === s && r.transport === t);
  const cpuOver = (a?: Row, b2?: Row) =>
    a?.cpuUsPerRequest && b2?.cpuUsPerRequest ? a.cpuUsPerRequest / b2.cpuUsPerRequest : NaN;
  const r = (name: string) => perRound[name];
  return [
    ...[
      ['warm /v1/resolve / bare Fastify', 0.8],
      ['warm /v1/authz / bare Fastify', 0.8],
      ['warm ResolveSubject / bare grpc-js', 0.8],
      ['warm Check / bare grpc-js Check', 0.8],
      ['warm, 1,000 tokens / the recipe', 20],
      ['cold HTTP / bare Fastify + crypto.verify', 0.8],
      ['cold gRPC / bare grpc-js + crypto.verify', 0.8],
      ['full miss HTTP / bare Fastify + crypto.verify + pg', 0.8],
      ['full miss / the recipe', 3],
      ['store HTTP / bare Fastify + pg', 0.8],
      ['store gRPC / bare grpc-js + pg', 0.8],
      [`store: ${users.toLocaleString()} users / 1k working set`, 0.9],
    ].map(([name, min]) => ({
      name: `${name} (req/s)`,
      rounds: r(name as string)?.values ?? [],
      bound: r(name as string)?.bound ?? false,
      goal: `≥ ${min}`,
      met: (v: number) => v >= (min as number),
    })),
    {
      name: `${CEILING_WARM_1K} (req/s)`,
      rounds: r(CEILING_WARM_1K)?.values ?? [],
      bound: r(CEILING_WARM_1K)?.bound ?? false,
      goal: REFERENCE,
      met: () => true,
    },
    {
      name: 'cold HTTP server CPU: heap cap / no cap',
      rounds: r('cold HTTP server CPU: heap cap / no cap')?.values ?? [],
      bound: false,
      goal: '≤ 1.05',
      met: (v: number) => v <= 1.05,
    },
    ...[
      'store @ half peak: p99 / bare Fastify + pg p99',
      'IdP hang: cold-token p99, JWKS hung / up',
    ].map((name) => ({
      name,
      rounds: r(name)?.values ?? [],
      bound: r(name)?.bound ?? false,
      goal: '≤ 1.5',
      met: (v: number) => v <= 1.5,
    })),
    ...['burst: answered 200, %', 'burst: subjects provisioned exactly once, %'].map((name) => ({
      name,
      rounds: r(name)?.values ?? [],
      bound: false,
      goal: '= 100',
      met: (v: number) => v === 100,
    })),
    {
      name: 'server CPU per request: warm ResolveSubject / warm /v1/resolve',
      rounds: [cpuOver(find('warm ResolveSubject', 'grpc'), find('warm /v1/resolve', 'http'))],
      bound: false,
      goal: '≤ 1.15',
      met: (v: number) => v <= 1.15,
    },
    {
      name: 'server CPU per request: warm Check / warm /v1/authz',
      rounds: [cpuOver(find('warm Check', 'grpc'), find('warm /v1/authz', 'http'))],
      bound: false,
      goal: '≤ 1.15',
      met: (v: number) => v <= 1.15,
    },
    {
      name: `peak RSS per worker, MB (VmHWM, every scenario; ${uniqueTokens.toLocaleString()} unique tokens resolved, target run: ≥ 200,000)`,
      rounds: [peakRssMb],
      bound: false,
      goal: '≤ 250',
      met: (v: number) => v <= 250,
    },
    {
      name: 'errors, all scenarios',
      rounds: [rows.reduce((n, row) => n + row.errors, 0)],
      bound: false,
      goal: '0',
      met: (v: number) => v === 0,
    },
  ].filter((t) => t.rounds.length > 0 && t.rounds.some((v) => Number.isFinite(v)));
}
