import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildConfig } from '@resolver/config';
import type { Pinning } from './processes';

export const ROOT = join(__dirname, '..', '..');
export const DIST = join(ROOT, 'dist');

/** Every scenario, in the order a round runs them. */
export const SCENARIOS = [
  'warm',
  'dpop',
  'opaque',
  'cold',
  'formats',
  'hang',
  'store',
  'fullmiss',
  'jit',
  'burst',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Which issuer signs the warm token: the production-like default, or the static ES256 key. */
export type WarmIssuer = 'jwks-rs256' | 'static-es256';

/** The bench's settings, from the command line. */
export interface BenchOptions {
  readonly users: number;
  readonly duration: number;
  readonly rounds: number;
  readonly connections: number;
  readonly sessions: number;
  readonly streams: number;
  readonly workers: number;
  readonly coldCount: number;
  readonly fullMissCount: number;
  readonly jitCount: number;
  /** The burst of first logins: new subjects per round, and requests each, all at once. */
  readonly burstSubjects: number;
  readonly burstPerSubject: number;
  readonly fillCount: number;
  readonly flood: number;
  readonly warmIssuer: WarmIssuer;
  readonly scenarios: ReadonlySet<ScenarioName>;
  readonly http: boolean;
  readonly grpc: boolean;
  readonly generator: 'auto' | 'node';
  readonly pinning?: Pinning;
  /** Node flags of every server process: start:prod's by default. */
  readonly nodeOptions: string;
  /** Also run the cold token on a resolver without the heap cap, to show what the cap costs. */
  readonly capCheck: boolean;
  /**
   * The resolver (`main`) with tracing on, every request sampled, exporting OTLP/HTTP protobuf
   * to a sink on loopback: what tracing costs per request.
   */
  readonly tracing: boolean;
  /** The share of requests traced with `--tracing` (0: the trace context only, nothing recorded). */
  readonly tracingRatio: number;
  readonly profileDir?: string;
  /** The generated report; undefined with --no-doc. */
  readonly doc?: string;
}

/**
 * The node flags of package.json's `start:prod`, read the way `npm start` and the e2e suites
 * read them (scripts/node-flags.js), so the bench measures the service as it is started.
 */
export function startProdNodeFlags(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const flags = require(join(ROOT, 'scripts', 'node-flags.js')) as {
    prodNodeFlags(root: string): string[];
  };
  return flags.prodNodeFlags(ROOT).join(' ');
}

/** The flags without `--max-old-space-size`: the cap check's second resolver. */
export function withoutHeapCap(nodeOptions: string): string {
  return nodeOptions
    .split(/\s+/)
    .filter((f) => f && !f.startsWith('--max-old-space-size'))
    .join(' ');
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      users: { type: 'string', default: '100000' },
      // Seconds per timed run. Every scenario alternates with its baselines over --rounds.
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      // gRPC: connections (HTTP/2 sessions); calls in flight = --connections over them all.
      'grpc-sessions': { type: 'string', default: '4' },
      workers: { type: 'string', default: '1' },
      // Fresh ES256 tokens per timed cold run (each used once; a run that needs more is flagged).
      'cold-tokens': { type: 'string', default: '50000' },
      // Fresh RS256 tokens per full-miss round (an RS256 signature costs ~1 ms to mint).
      'fullmiss-tokens': { type: 'string', default: '30000' },
      'jit-requests': { type: 'string', default: '4000' },
      // The burst of first logins (issue 24): 200 new subjects x 10 requests, at once.
      'burst-subjects': { type: 'string', default: '200' },
      'burst-per-subject': { type: 'string', default: '10' },
      // Distinct users resolved at the end to fill the user cache (default: to its default
      // cap), so the RSS reported is that of full caches. 0 to skip.
      'fill-users': {
        type: 'string',
        default: String(
          buildConfig({}, {}, { source: 'defaults', baseDir: '/' }).cache.users.maxEntries,
        ),
      },
      // Distinct cold tokens (random users) sent through the resolver before the first round,
      // as production's caches have seen many before a warm request (issue #24: 216,000).
      flood: { type: 'string', default: '216000' },
      'warm-issuer': { type: 'string', default: 'jwks-rs256' },
      // auto: wrk and h2load (installed when missing, as root on Debian), else the Node ones.
      generator: { type: 'string', default: 'auto' },
      pin: { type: 'boolean', default: true },
      'no-pin': { type: 'boolean', default: false },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      transports: { type: 'string', default: 'http,grpc' },
      // Every server's node flags: by default the ones `npm run start:prod` starts it with.
      'node-options': { type: 'string', default: startProdNodeFlags() },
      'no-cap-check': { type: 'boolean', default: false },
      // The resolver traced (docs/tracing.md): every request sampled, exported to a local sink.
      tracing: { type: 'boolean', default: false },
      'tracing-ratio': { type: 'string', default: '1' },
      // V8 CPU profiles of every server (resolvers, baselines, the recipe), and when each run
      // began and ended on their clock (bench/results/profiles, windows.json).
      profile: { type: 'boolean', default: false },
      // The generated report; --no-doc for smoke runs (results still go to bench/results).
      doc: { type: 'string', default: join(ROOT, 'docs', 'performance.md') },
      'no-doc': { type: 'boolean', default: false },
    },
  });
  const num = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${values[name]}`);
    return n;
  };
  const scenarios = new Set<ScenarioName>();
  for (const s of values.scenarios.split(',').map((x) => x.trim())) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--scenarios: unknown ${s} (known: ${SCENARIOS.join(', ')})`);
    scenarios.add(s as ScenarioName);
  }
  const transports = new Set(values.transports.split(',').map((s) => s.trim()));
  if (values.generator !== 'auto' && values.generator !== 'node')
    throw new Error(`--generator must be auto or node, not ${values.generator}`);
  if (values['warm-issuer'] !== 'jwks-rs256' && values['warm-issuer'] !== 'static-es256')
    throw new Error(`--warm-issuer must be jwks-rs256 or static-es256`);
  const users = num('users');
  const workers = num('workers');
  const connections = num('connections');
  const sessions = Math.max(1, num('grpc-sessions'));
  const cores = cpus().length;
  const nodeOptions = values['node-options'];
  return {
    users,
    duration: num('duration'),
    rounds: Math.max(1, num('rounds')),
    connections,
    sessions,
    streams: Math.max(1, Math.round(connections / sessions)),
    workers,
    coldCount: num('cold-tokens'),
    fullMissCount: num('fullmiss-tokens'),
    jitCount: num('jit-requests'),
    burstSubjects: Math.max(1, num('burst-subjects')),
    burstPerSubject: Math.max(1, num('burst-per-subject')),
    fillCount: Math.min(users, num('fill-users')),
    flood: num('flood'),
    warmIssuer: values['warm-issuer'],
    scenarios,
    http: transports.has('http'),
    grpc: transports.has('grpc'),
    generator: values.generator,
    pinning:
      values.pin &&
      !values['no-pin'] &&
      workers === 1 &&
      cores >= 2 &&
      existsSync('/usr/bin/taskset')
        ? { server: '0', load: `1-${cores - 1}` }
        : undefined,
    nodeOptions,
    capCheck:
      !values['no-cap-check'] &&
      nodeOptions.split(/\s+/).some((f) => f.startsWith('--max-old-space-size')),
    tracing: values.tracing,
    tracingRatio: Math.min(1, num('tracing-ratio')),
    profileDir: values.profile ? join(ROOT, 'bench', 'results', 'profiles') : undefined,
    doc: values['no-doc'] ? undefined : values.doc,
  };
}
