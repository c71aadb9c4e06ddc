import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { argMap, percentile, type RunResult } from './stats';

/**
 * Open-loop HTTP load at a constant rate (`--rate` req/s for `--duration` s): request i is due
 * at start + i/rate whatever happened to the earlier ones, and its latency counts from that due
 * time, so a stalled server cannot hide its queue (no coordinated omission). A closed-loop
 * generator's "rate limit" (autocannon's is a per-second budget per connection) sends bursts
 * and measures those instead. Prints one JSON RunResult.
 */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((t) => `Bearer ${t}`);
  const rate = Number(a.rate);
  const total = Math.max(1, Math.round(rate * Number(a.duration ?? 10)));
  const url = new URL(`${a.url}/v1/resolve`);
  const agent = new Agent({ keepAlive: true, maxSockets: Number(a.connections ?? 64) });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let settled = 0;
  const start = performance.now();
  await new Promise<void>((done) => {
    const fire = (due: number, token: string) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: { authorization: token, 'content-length': '0' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - due);
            if (++settled === total) done();
          });
        },
      );
      req.on('error', () => {
        errors++;
        latencies.push(performance.now() - due);
        if (++settled === total) done();
      });
      req.end();
    };
    // A 1 ms tick sends everything that has become due; the latency clock starts at the due
    // time, so the tick's own lateness is charged to the measurement, not hidden.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) {
        fire(start + (sent * 1000) / rate, tokens[sent % tokens.length] as string);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((x, y) => x - y);
  const out: RunResult = {
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    errors,
    requests: latencies.length,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
