import { JIT_ISS, ISS } from './issuers';
import { log } from './processes';
import { countFresh, type Scenario } from './scenario';
import type { ResolverServer } from './servers';

/**
 * JIT: every request a new subject, provisioned (half over HTTP, half over gRPC); then, so the
 * RSS reported is that of full caches, as many distinct users as the user cache holds.
 */
export const jit: Scenario = {
  name: 'jit',
  baselines: () => [],
  servers: () => ['main'],
  mint: (p) => {
    const half = Math.floor(p.o.jitCount / 2);
    const subjects = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `jit-${from + i}`);
    return [
      { key: p.idp.es256, iss: JIT_ISS, subjects: subjects(0, half), file: p.file('jit-a.txt') },
      {
        key: p.idp.es256,
        iss: JIT_ISS,
        subjects: subjects(half, p.o.jitCount),
        file: p.file('jit-b.txt'),
      },
      ...(p.o.fillCount > 0
        ? [
            {
              key: p.idp.es256,
              iss: ISS,
              subjects: Array.from({ length: p.o.fillCount }, (_, i) => `u${i + 1}`),
              file: p.file('fill.txt'),
            },
          ]
        : []),
    ];
  },
  async after(b) {
    const { run, o } = b;
    const main = b.main as ResolverServer;
    log('jit (every request a new subject, provisioned)');
    const half = Math.floor(o.jitCount / 2);
    if (o.http)
      await run.measure('jit', 'http', main, run.httpCount(main.url, b.file('jit-a.txt'), half));
    if (o.grpc)
      await run.measure(
        'jit',
        'grpc',
        main,
        run.grpcTokens(main.address, b.file('jit-b.txt'), 'resolve', o.jitCount - half),
      );
    if (o.fillCount > 0) {
      log(`filling the caches: ${o.fillCount.toLocaleString()} distinct users`);
      const f = b.file('fill.txt');
      const fill = await run.measure(
        `fill: ${o.fillCount.toLocaleString()} distinct users`,
        'http',
        main,
        run.httpCount(main.url, f, o.fillCount),
      );
      countFresh(b, main, fill, f);
    }
  },
};
