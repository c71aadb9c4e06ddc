import { randomInt } from 'node:crypto';
import type { BenchIdp } from './issuers';
import type { BenchOptions, ScenarioName } from './options';
import type { Row } from './report';
import type { Runner } from './runner';
import type { BenchServer, ResolverServer, ServerContext } from './servers';
import type { MintJob } from './tokens';

/** The servers a scenario drives besides its bare baselines. */
export type ServerName = 'main' | 'store' | 'nocap' | 'recipe';

/** What a scenario sees while it mints its tokens, before any server starts. */
export interface Prep {
  readonly o: BenchOptions;
  readonly idp: BenchIdp;
  /** A path in the run's scratch directory. */
  file(name: string): string;
}

/** What a scenario sees while it runs. */
export interface Bench extends Prep {
  readonly run: Runner;
  /** Where servers start from (a scenario that starts its own, e.g. the burst's replicas). */
  readonly ctx: ServerContext;
  readonly main?: ResolverServer;
  readonly store?: ResolverServer;
  /** The main resolver's twin without `--max-old-space-size` (the cap check). */
  readonly nocap?: ResolverServer;
  readonly recipe?: BenchServer;
  /** A bare baseline the scenario declared. */
  bare(kind: string): BenchServer;
  /** Settings the report prints (e.g. the JWKS requests held during the IdP hang). */
  readonly notes: Record<string, unknown>;
}

/**
 * One scenario of `npm run bench`: the tokens it needs, the servers it drives, and what it runs
 * in each round, alternating with its baselines. Each lives in its own file (bench/scenario-*).
 */
export interface Scenario {
  readonly name: ScenarioName;
  /** Bare baseline kinds it compares against (bench/baselines.ts). */
  baselines(o: BenchOptions): string[];
  servers(o: BenchOptions): ServerName[];
  /** Token files to mint before any load. */
  mint?(p: Prep): MintJob[];
  /** After the servers are up and the flood has run, before round 1. */
  prime?(b: Bench): Promise<void>;
  round?(b: Bench, round: number): Promise<void>;
  /** After every round (open-loop runs, cache fills). */
  after?(b: Bench): Promise<void>;
}

/** The users every resolver keeps cached: u1..u1000. */
export const CACHED_USERS = 1000;

export const cachedSubjects = (users: number): string[] =>
  Array.from({ length: Math.min(CACHED_USERS, users) }, (_, i) => `u${i + 1}`);

/** `n` subjects of the cached users, in turn (a fresh token each, the user cached). */
export const cachedCycle = (n: number, users: number): string[] => {
  const cached = cachedSubjects(users);
  return Array.from({ length: n }, (_, i) => cached[i % cached.length] as string);
};

/** `n` random users of the first `range`. */
export const randomUsers = (n: number, range: number): string[] =>
  Array.from({ length: n }, () => `u${randomInt(1, range + 1)}`);

/** Counts the fresh tokens a resolver was sent (the RSS target says how many it had seen). */
export function countFresh(b: Bench, server: ResolverServer, row: Row | undefined, tokens: string) {
  if (row) server.uniqueTokens += Math.min(row.requests, b.run.tokenLines(tokens));
}
