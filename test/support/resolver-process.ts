import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports';
import { prodNodeFlags } from '../../scripts/node-flags';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'resolver', 'src', 'main.js');

/** The built resolver as a separate OS process (a second replica), configured by a YAML file. */
/** The child could not bind a port picked for it (another suite took it first). */
class PortTaken extends Error {}

export class ResolverProcess {
  private output = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly grpcAddress: string,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  static async start(
    databaseUrl: string,
    config: Record<string, unknown>,
    env: Record<string, string> = {},
  ): Promise<ResolverProcess> {
    // A port picked here can be taken by another suite before the child binds it: the child
    // then exits saying so, and it is started again on new ports (bounded).
    for (let attempt = 1; ; attempt++) {
      try {
        return await ResolverProcess.startOnce(databaseUrl, config, env);
      } catch (error) {
        if (attempt >= 3 || !(error instanceof PortTaken)) throw error;
      }
    }
  }

  private static async startOnce(
    databaseUrl: string,
    config: Record<string, unknown>,
    env: Record<string, string>,
  ): Promise<ResolverProcess> {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`);
    const dir = await mkdtemp(join(tmpdir(), 'resolver-proc-'));
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const file = join(dir, 'resolver.yaml');
    await writeFile(
      file,
      stringify({
        ...config,
        // The suite's own server settings (deadlines), with this process's ports on loopback.
        server: {
          ...(config.server as Record<string, unknown> | undefined),
          httpPort,
          grpcPort,
          bindAddress: '127.0.0.1',
        },
      }),
    );
    // Started as production starts it: start:prod's node flags (--disable-proto=delete among them).
    const child = spawn(process.execPath, [...prodNodeFlags(), MAIN], {
      env: { PATH: process.env.PATH, RESOLVER_CONFIG: file, DATABASE_URL: databaseUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ResolverProcess(
      child,
      `http://127.0.0.1:${httpPort}`,
      `127.0.0.1:${grpcPort}`,
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await fetch(`${proc.url}/health/ready`).then(
        (r) => r.json() as Promise<any>,
        () => undefined,
      );
      if (ready?.details?.listener?.cachesInUse) return proc;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    if (child.exitCode !== null && /port is in use/.test(proc.output)) throw new PortTaken();
    throw new Error(`resolver process did not become ready:\n${proc.output.slice(-3000)}`);
  }

  logs(): string {
    return this.output;
  }

  /** Kills the process at once (SIGKILL): no shutdown hook runs, as in a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return exited;
  }
}
