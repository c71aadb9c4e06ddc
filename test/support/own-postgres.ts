import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '@resolver/identity';
import { freePort } from './ports';

/**
 * A Postgres server of a suite's own (not the shared e2e one), so the suite can stop it for an
 * outage and start it again on the same port and data without disturbing any other suite.
 */
export class OwnPostgres {
  private constructor(
    private server: EmbeddedDatabase,
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  static async start(prefix: string): Promise<OwnPostgres> {
    const dataDir = await mkdtemp(join(tmpdir(), `resolver-${prefix}-`));
    const port = await freePort();
    return new OwnPostgres(await startEmbeddedDatabase({ dataDir, port }), dataDir, port);
  }

  get url(): string {
    return this.server.url;
  }

  /** The outage: the server stops (clients see refused connections). */
  stop(): Promise<void> {
    return this.server.stop();
  }

  /** The recovery: the same data on the same port. */
  async restart(): Promise<void> {
    this.server = await startEmbeddedDatabase({ dataDir: this.dataDir, port: this.port });
  }

  async destroy(): Promise<void> {
    await this.server.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
