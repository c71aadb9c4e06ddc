import { ISS } from './issuers';
import { cachedCycle, countFresh, type Prep, type Scenario } from './scenario';
import type { ResolverServer } from './servers';
import type { MintJob } from './tokens';

const rounds = (p: Prep) => Array.from({ length: p.o.rounds }, (_, i) => i + 1);
const FORMATS = ['jws', 'jwe', 'paseto'] as const;

/**
 * Token formats (docs/token-formats.md): the same static issuer's tokens as a signed JWT (ES256),
 * an encrypted JWT (ECDH-ES+A256KW + A256GCM, the ES256 JWT nested) and a PASETO v4.public token
 * (Ed25519), each cold (a token never seen before on every request, its user cached) and warm
 * (one token repeated), on POST /v1/resolve, in the same rounds: the server CPU per request of
 * each format beside the JWS rows measured with the same generator.
 */
export const formats: Scenario = {
  name: 'formats',
  baselines: () => [],
  servers: (o) => (o.http ? ['main'] : []),
  mint: (p) => {
    if (!p.o.http) return [];
    const job = (format: (typeof FORMATS)[number], name: string, subjects: string[]): MintJob => ({
      key: format === 'paseto' ? p.idp.paseto : p.idp.es256,
      iss: ISS,
      subjects,
      file: p.file(name),
      ...(format === 'jws' ? {} : { format }),
      ...(format === 'jwe' ? { encryption: p.idp.encryption } : {}),
    });
    return FORMATS.flatMap((format) => [
      job(format, `formats-warm-${format}.txt`, ['u1']),
      ...rounds(p).map((round) =>
        job(format, `formats-cold-${format}-${round}.txt`, cachedCycle(p.o.coldCount, p.o.users)),
      ),
    ]);
  },
  async prime(b) {
    if (!b.o.http) return;
    const main = b.main as ResolverServer;
    for (const format of FORMATS)
      await b.run.httpCount(main.url, b.file(`formats-warm-${format}.txt`), 100)();
  },
  async round(b, round) {
    if (!b.o.http) return;
    const { run } = b;
    const main = b.main as ResolverServer;
    const rows: Partial<Record<string, Awaited<ReturnType<typeof run.measure>>>> = {};
    for (const format of FORMATS) {
      const w = b.file(`formats-warm-${format}.txt`);
      rows[`warm-${format}`] = await run.measure(
        `warm ${format.toUpperCase()} /v1/resolve`,
        'http',
        main,
        run.httpTimed(main.url, w, 'POST', '/v1/resolve'),
      );
    }
    for (const format of FORMATS) {
      const t = b.file(`formats-cold-${format}-${round}.txt`);
      const r = await run.measure(
        `cold ${format.toUpperCase()} /v1/resolve`,
        'http',
        main,
        run.httpTimed(main.url, t, 'POST', '/v1/resolve'),
        t,
      );
      countFresh(b, main, r, t);
      rows[`cold-${format}`] = r;
    }
    for (const format of ['jwe', 'paseto']) {
      const jws = rows['cold-jws'];
      const other = rows[`cold-${format}`];
      if (jws && other)
        run.ratio(`cold ${format.toUpperCase()} / cold JWS server CPU`, other, jws, 'cpu');
    }
  },
};
