import { readFileSync } from 'node:fs';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoFiles, RESOLVER_GRPC } from '@resolver/contract';
import { argMap, ownCpuSeconds, type RunResult, runBenchChild, summarize } from './stats';

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void;

/**
 * gRPC load generator (a separate process): `--connections` concurrent callers of
 * identity.v1.SubjectResolver/ResolveSubject over one channel each, tokens round-robin from a
 * file, bounded by `--amount` requests or `--duration` seconds. Prints one JSON RunResult.
 */
async function main(): Promise<RunResult> {
  const a = argMap(process.argv.slice(2));
  const tokens = readFileSync(a.tokens as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  const definition = loadSync(protoFiles(), {
    ...RESOLVER_GRPC.loader,
    includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    identity: {
      v1: {
        SubjectResolver: new (
          addr: string,
          creds: unknown,
          opts?: object,
        ) => { ResolveSubject: Unary; close(): void };
      };
    };
  };
  const callers = Number(a.connections ?? 32);
  const amount = a.amount ? Number(a.amount) : Infinity;
  const deadline = Date.now() + Number(a.duration ?? 10) * 1000;
  const clients = Array.from(
    { length: Math.min(callers, 8) },
    (_, i) =>
      new pkg.identity.v1.SubjectResolver(a.address as string, credentials.createInsecure(), {
        'grpc.channel_id': i,
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const cpuBefore = ownCpuSeconds();
  const started = process.hrtime.bigint();
  const loop = async (c: number) => {
    const client = clients[c % clients.length] as { ResolveSubject: Unary };
    while (issued < amount && (amount !== Infinity || Date.now() < deadline)) {
      const token = tokens[issued++ % tokens.length];
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve) =>
        client.ResolveSubject({ token }, new Metadata(), (err) => {
          if (err) errors++;
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, c) => loop(c)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const generatorCpuSeconds = ownCpuSeconds() - cpuBefore;
  for (const client of clients) (client as { close(): void }).close();
  return { ...summarize(latencies, seconds, errors), generatorCpuSeconds };
}

runBenchChild(main);
