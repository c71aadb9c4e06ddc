import { Client } from 'pg';

/** The first key of the two-key advisory lock: this project's SSF pollers ('ssfp'). */
const NAMESPACE = 0x73_73_66_70;

/**
 * A Postgres session-level advisory lock on a dedicated connection (never a pooled one: the lock
 * belongs to the session that took it). Whoever holds it is the one replica that does the
 * guarded work; it is released by {@link release}, or by Postgres when the holder's connection
 * ends (a killed replica), so another replica's next {@link tryAcquire} takes over. No election
 * of our own: the database decides.
 */
export class AdvisoryLock {
  private client: Client | undefined;
  private lost = false;

  constructor(
    private readonly url: string,
    /** The lock's name; `hashtext(name)` is its second key. */
    readonly name: string,
    private readonly connectTimeoutMs = 2_000,
  ) {}

  /**
   * True when this process holds the lock now: already held and its connection still answers,
   * or just taken. False when another session holds it or the database cannot be reached.
   */
  async tryAcquire(): Promise<boolean> {
    if (this.client && !this.lost) {
      try {
        await this.client.query('SELECT 1');
        return true;
      } catch {
        await this.drop();
        return false;
      }
    }
    await this.drop();
    const client = new Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.connectTimeoutMs,
      keepAlive: true,
      application_name: 'subject-resolver-ssf-poller',
      statement_timeout: 5_000,
    });
    client.on('error', () => (this.lost = true));
    client.on('end', () => (this.lost = true));
    try {
      await client.connect();
      const { rows } = await client.query<{ held: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS held',
        [NAMESPACE, this.name],
      );
      if (rows[0]?.held === true) {
        this.client = client;
        this.lost = false;
        return true;
      }
    } catch {
      // Unreachable database: not held; the caller tries again later.
    }
    await client.end().catch(() => undefined);
    return false;
  }

  /** Whether the lock is believed held (the connection has not failed since it was taken). */
  held(): boolean {
    return this.client !== undefined && !this.lost;
  }

  /** Releases the lock (graceful shutdown) and closes its connection. */
  async release(): Promise<void> {
    const client = this.client;
    if (client && !this.lost)
      await client
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, this.name])
        .catch(() => undefined);
    await this.drop();
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.lost = false;
    await client?.end().catch(() => undefined);
  }
}
