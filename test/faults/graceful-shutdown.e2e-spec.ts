import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, sqlPool } from '../support/database';
import { ResolverGrpcClient } from '../support/grpc-client';
import { HealthClient } from '../support/grpc-health-client';
import { JwksServer } from '../support/jwks-server';
import { freePort } from '../support/ports';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { grpcAnswer, httpAnswer, runLoad, sleep, tally } from './load';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist/apps/resolver/src/main.js');
const AUD = 'api://fault-shutdown';
const DRAIN_MS = 1_000;
const GRACE_MS = 10_000;

/**
 * SIGTERM to the built service under load, with the test playing the load balancer: it sends
 * requests while the service looks ready and stops routing after two failed readiness probes
 * (as a kubelet/LB would). Readiness must turn false first, every request routed to the
 * service must be answered (in-flight ones included), and the process must exit 0 within the
 * grace period.
 */
describe('fault: SIGTERM under load (built service)', () => {
  let dir: string;
  let idp: JwksServer;
  let service: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`);
    dir = await mkdtemp(join(tmpdir(), 'resolver-shutdown-'));
    idp = await new JwksServer().start();
  });

  afterAll(async () => {
    if (service && service.exitCode === null && service.signalCode === null)
      service.kill('SIGKILL');
    await idp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('turns not-ready first, answers every routed request, and exits 0 within the grace period', async () => {
    const keys = await TokenFactory.create('fault-shutdown');
    const issuer = 'https://fault-shutdown.idp.test';
    const jwksUri = idp.publishJwks('shutdown', keys.publicJwks());
    const configPath = join(dir, 'resolver.yaml');
    // JSON is YAML.
    await writeFile(
      configPath,
      JSON.stringify({
        server: { shutdownDrainMs: DRAIN_MS, shutdownGraceMs: GRACE_MS },
        // Requests must do real work (and can be held in flight): caches off.
        cache: { enabled: false },
        issuers: [
          { issuer, jwksUri, audiences: [AUD], algorithms: ['RS256'], jit: { enabled: true } },
        ],
      }),
    );
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const databaseUrl = await createTestDatabase('fault_shutdown');
    const url = `http://127.0.0.1:${httpPort}`;
    service = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: databaseUrl,
        RESOLVER_CONFIG: configPath,
        HTTP_PORT: String(httpPort),
        GRPC_PORT: String(grpcPort),
        BIND_ADDRESS: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    service.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
      service?.once('exit', (code) => resolve({ code, at: Date.now() })),
    );

    const ready = async () => {
      try {
        return (await fetch(`${url}/health/ready`)).status === 200;
      } catch {
        return false;
      }
    };
    const bootDeadline = Date.now() + 30_000;
    while (!(await ready()) && Date.now() < bootDeadline && service.exitCode === null)
      await sleep(100);
    expect({ ready: await ready(), stderr }).toEqual({ ready: true, stderr: '' });

    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        keys.sign(claimsFor(issuer, AUD, now, { sub: `u${i}` })),
      ),
    );
    for (const token of tokens) expect((await httpAnswer(url, token)).status).toBe(200); // JIT
    const grpc = new ResolverGrpcClient(`127.0.0.1:${grpcPort}`);
    const health = new HealthClient(`127.0.0.1:${grpcPort}`);
    expect(await health.check('')).toBe('SERVING');

    // The load balancer: routes while the service is ready; stops after two failed probes.
    let routing = true;
    let notReadyAt = 0;
    let grpcHealthDuringDrain = '';
    const probes = (async () => {
      let failures = 0;
      while (routing) {
        await sleep(50);
        if (await ready()) failures = 0;
        else if (++failures === 1) notReadyAt = Date.now();
        if (failures >= 2) routing = false;
      }
    })();
    const load = runLoad({
      workers: 8,
      maxRequests: 50_000,
      keepGoing: () => routing,
      shot: async (w, n) => {
        const token = tokens[(w * 5 + n) % tokens.length] as string;
        return w % 4 === 3
          ? grpcAnswer(await grpc.resolve({ token }))
          : httpAnswer(url, token, { 'x-request-id': `lb-${w}-${n}` });
      },
    });

    await sleep(600);
    const sigtermAt = Date.now();
    service.kill('SIGTERM');
    await sleep(200);
    grpcHealthDuringDrain = await health.check('').catch((e: Error) => `error: ${e.message}`);
    const samples = await load;
    await probes;
    // Requests still in flight when the listeners close: a lock (held by "a DBA") keeps them
    // waiting in Postgres from before the end of the drain until after it.
    const sql = sqlPool(databaseUrl);
    const locker = await sql.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const slow = Promise.all(
      tokens.slice(0, 4).map(async (token, i) => {
        const answer =
          i % 2 === 0 ? await httpAnswer(url, token) : grpcAnswer(await grpc.resolve({ token }));
        return { ...answer, endedAt: Date.now() };
      }),
    );
    await sleep(Math.max(0, sigtermAt + DRAIN_MS + 400 - Date.now()));
    await locker.query('ROLLBACK');
    locker.release();
    await sql.end();
    const inFlightAtClose = await slow;
    const exited = await exit;
    grpc.close();
    health.close();

    const afterSigterm = samples.filter((s) => s.startedAt >= sigtermAt);
    const inFlightAtSigterm = samples.filter(
      (s) => s.startedAt < sigtermAt && s.endedAt >= sigtermAt,
    );
    console.log(
      `SIGTERM under load: ${samples.length} requests ${JSON.stringify(tally(samples))}; ` +
        `${inFlightAtSigterm.length} in flight at SIGTERM, ${afterSigterm.length} sent after it; ` +
        `4 more held in flight across the close; ` +
        `not ready after ${notReadyAt - sigtermAt} ms, exit ${exited.code} after ${exited.at - sigtermAt} ms`,
    );

    // Readiness turned false first (HTTP and gRPC health), while the process still served.
    expect(notReadyAt).toBeGreaterThanOrEqual(sigtermAt);
    expect(notReadyAt).toBeLessThan(exited.at);
    expect(grpcHealthDuringDrain).toBe('NOT_SERVING');
    // Zero dropped: every request routed to the service, before or after SIGTERM, got its 200.
    expect(samples.length).toBeGreaterThan(50);
    expect(afterSigterm.length).toBeGreaterThan(0);
    expect(tally(samples)).toEqual({ '200': samples.length });
    // In flight across the close (HTTP and gRPC): finished, not cut.
    expect(inFlightAtClose.map((a) => [a.transport, a.status])).toEqual([
      ['http', 200],
      ['grpc', 200],
      ['http', 200],
      ['grpc', 200],
    ]);
    for (const a of inFlightAtClose) expect(a.endedAt).toBeGreaterThan(sigtermAt + DRAIN_MS);
    // Clean exit within the grace period.
    expect(exited.code).toBe(0);
    expect(exited.at - sigtermAt).toBeLessThan(GRACE_MS);
    // Production mode logs one JSON object per line, through to the end of the shutdown.
    const lines = stdout.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('shutdown complete');
    for (const token of tokens) expect(stdout + stderr).not.toContain(token);
  });
});
