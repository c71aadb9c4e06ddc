import { readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { GRPC_PATH, type GrpcMethodName, grpcFrame } from './grpc-frames';
import { argMap, ownCpuSeconds, type RunResult, runBenchChild, summarize } from './stats';

/**
 * gRPC load with a different token on every call, which h2load cannot send (it repeats one
 * body): raw node:http2 streams carrying prebuilt gRPC frames, no grpc-js client, so the
 * generator costs a fraction of a grpc-js one. `--connections` sessions, `--streams` calls in
 * flight on each, tokens from `--tokens` round-robin (each once when `--amount` <= tokens),
 * bounded by `--amount` calls or `--duration` s; `--method resolve|check`. A call counts as an
 * error unless its trailers say grpc-status 0. Prints one JSON RunResult.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  const method = (a.method ?? 'resolve') as GrpcMethodName;
  const frames = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((t) => grpcFrame(method, t));
  const sessions = Math.max(1, Number(a.connections ?? 4));
  const streams = Math.max(1, Number(a.streams ?? 8));
  const amount = a.amount ? Number(a.amount) : Infinity;
  const deadline = performance.now() + Number(a.duration ?? 10) * 1000;
  const clients: ClientHttp2Session[] = await Promise.all(
    Array.from(
      { length: sessions },
      () =>
        new Promise<ClientHttp2Session>((resolve, reject) => {
          const s = connect(`http://${a.address}`);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const headers = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: GRPC_PATH[method],
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const cpuBefore = ownCpuSeconds();
  const started = performance.now();
  // Callback-driven, no promise per call: each of the sessions x streams slots issues its next
  // call from the previous one's close. Responses are drained with resume(), not a listener.
  let live = sessions * streams;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const issue = (session: ClientHttp2Session): void => {
    if (issued >= amount || (amount === Infinity && performance.now() >= deadline)) {
      if (--live === 0) finish();
      return;
    }
    const frame = frames[issued++ % frames.length] as Buffer;
    const t0 = performance.now();
    let status: unknown;
    const req = session.request(headers, { endStream: false });
    // A trailers-only answer (an error) carries grpc-status in the headers.
    req.once('response', (h: Record<string, unknown>) => (status = h['grpc-status']));
    req.once('trailers', (t: Record<string, unknown>) => (status = t['grpc-status']));
    req.once('close', () => {
      if (String(status) !== '0') errors++;
      latencies.push(performance.now() - t0);
      issue(session);
    });
    req.resume();
    req.end(frame);
  };
  for (let c = 0; c < sessions * streams; c++)
    issue(clients[c % clients.length] as ClientHttp2Session);
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const generatorCpuSeconds = ownCpuSeconds() - cpuBefore;
  for (const s of clients) s.close();
  return { ...summarize(latencies, seconds, errors), generatorCpuSeconds };
}

runBenchChild(main);
