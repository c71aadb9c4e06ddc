import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { argMap, ownCpuSeconds, type RunResult, runBenchChild, summarize } from './stats';

/** One keep-alive connection carrying one request at a time. */
interface Conn {
  socket: Socket;
  busy: boolean;
  due: number;
  buffer: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Open-loop HTTP load at a constant rate (`--rate` req/s for `--duration` s): request i is due
 * at start + i/rate whatever happened to the earlier ones, and its latency counts from when it
 * became due, so a stalled server cannot hide its queue (no coordinated omission). A closed-loop
 * generator's "rate limit" (autocannon's is a per-second budget per connection) sends bursts
 * and measures those instead. Requests go over raw keep-alive sockets with prebuilt bytes:
 * node:http's client cost enough per request to show in the latencies it measured.
 * Prints one JSON RunResult.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  const url = new URL(`${a.url}/v1/resolve`);
  const requests = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((t) =>
      Buffer.from(
        `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${t}\r\ncontent-length: 0\r\n\r\n`,
      ),
    );
  const rate = Number(a.rate);
  const total = Math.max(1, Math.round(rate * Number(a.duration ?? 10)));
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const queue: number[] = []; // due times of requests waiting for a free connection
  const idle: Conn[] = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));

  const send = (conn: Conn, due: number) => {
    conn.busy = true;
    conn.due = due;
    conn.socket.write(requests[sent % requests.length] as Buffer);
    sent++;
  };
  const settle = (conn: Conn, ok: boolean) => {
    if (!ok) errors++;
    latencies.push(performance.now() - conn.due);
    conn.busy = false;
    if (latencies.length === total) return finish();
    const due = queue.shift();
    if (due !== undefined) send(conn, due);
    else idle.push(conn);
  };
  const open = () =>
    new Promise<Conn>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      socket.setNoDelay(true);
      const conn: Conn = { socket, busy: false, due: 0, buffer: Buffer.alloc(0) };
      socket.once('connect', () => resolve(conn));
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
        // One response at a time per connection: the status line, headers, then the body.
        const end = conn.buffer.indexOf(HEADER_END);
        if (end < 0) return;
        const head = conn.buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (conn.buffer.length < end + 4 + length) return;
        conn.buffer = conn.buffer.subarray(end + 4 + length);
        settle(conn, head.startsWith('HTTP/1.1 200'));
      });
    });
  const conns = await Promise.all(
    Array.from({ length: Number(a.connections ?? 64) }, () => open()),
  );
  idle.push(...conns);
  const cpuBefore = ownCpuSeconds();
  const start = performance.now();
  // A 1 ms tick sends everything that has become due. A request's latency counts from the tick
  // that found it due: a wait for a free connection (the server's queue) is charged, the
  // timer's own lateness (the generator's, up to a millisecond or two) is not.
  const tick = () => {
    const now = performance.now();
    let scheduled = sent + queue.length;
    while (scheduled < total && start + (scheduled * 1000) / rate <= now) {
      const conn = idle.pop();
      if (conn) send(conn, now);
      else queue.push(now);
      scheduled++;
    }
    if (scheduled < total) setTimeout(tick, 1);
  };
  tick();
  await finished;
  const seconds = (performance.now() - start) / 1000;
  const generatorCpuSeconds = ownCpuSeconds() - cpuBefore;
  for (const c of conns) c.socket.destroy();
  return { ...summarize(latencies, seconds, errors), generatorCpuSeconds };
}

runBenchChild(main);
