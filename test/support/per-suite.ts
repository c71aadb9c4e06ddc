/** What a suite's world needs to be started once per suite file. */
export interface SuiteWorld {
  start(name: string): Promise<void>;
  /** Stops whatever `start` got to, so a failed start leaves nothing running. */
  close(): Promise<void>;
}

/**
 * Starts `world` (in a database of its own, `name`) before the calling suite's tests and stops
 * it after them. Suites declare their cases before it starts; they reach its parts when run.
 */
export function perSuite<W extends SuiteWorld>(world: W, name: string): W {
  beforeAll(() => world.start(name));
  afterAll(() => world.close());
  return world;
}
