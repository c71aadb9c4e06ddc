import { loadSync } from '@grpc/proto-loader';
import { protoFiles, RESOLVER_GRPC } from '@resolver/contract';
import { GENERATOR_BOUND_PCT, processCpuSeconds } from './generators';
import { grpcFrame } from './grpc-frames';
import { type Row, verdictOf, writeReport } from './report';
import { buildTargets, CEILING_WARM_1K } from './targets';

const definition = loadSync(protoFiles(), {
  ...RESOLVER_GRPC.loader,
  includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
});
type Method = { requestDeserialize: (b: Buffer) => unknown };
const method = (service: string, name: string) =>
  (definition[service] as unknown as Record<string, Method>)[name] as Method;

const row = (over: Partial<Row>): Row => ({
  scenario: 'warm /v1/resolve',
  transport: 'http',
  generator: 'wrk',
  generatorCpuPct: 20,
  generatorBound: false,
  tokensRepeated: false,
  rps: 1000,
  p50Ms: 1,
  p99Ms: 2,
  p999Ms: 3,
  errors: 0,
  requests: 5000,
  ...over,
});

describe('bench', () => {
  it('prebuilt gRPC frames: a 5-byte prefix (uncompressed, length) and the message the server decodes', () => {
    const frame = grpcFrame('resolve', 'a.b.c');
    expect(frame[0]).toBe(0);
    expect(frame.readUInt32BE(1)).toBe(frame.length - 5);
    expect(
      method('identity.v1.SubjectResolver', 'ResolveSubject').requestDeserialize(frame.subarray(5)),
    ).toEqual({ token: 'a.b.c', dpopProof: '', method: '', uri: '', clientCertificate: '' });
    const check = method('envoy.service.auth.v3.Authorization', 'Check').requestDeserialize(
      grpcFrame('check', 'a.b.c').subarray(5),
    ) as { attributes: { request: { http: { headers: Record<string, string> } } } };
    expect(check.attributes.request.http.headers.authorization).toBe('Bearer a.b.c');
  });

  it("reads a process's own CPU time from /proc/<pid>/stat", () => {
    const before = processCpuSeconds(process.pid) as number;
    // Spin until this process has used 150 ms of CPU by Node's own count (bounded): a wall-clock
    // spin gets less CPU than it lasts when other processes share the cores.
    const start = process.cpuUsage();
    const deadline = Date.now() + 10_000;
    let x = 0;
    const used = () => {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1e6;
    };
    while (used() < 0.15 && Date.now() < deadline)
      for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect((processCpuSeconds(process.pid) as number) - before).toBeGreaterThan(0.05);
    expect(processCpuSeconds(2 ** 22 + 12345)).toBeUndefined();
  });

  it('a ratio with a generator-bound round is not reported as a result, whatever its value', async () => {
    const targets = buildTargets({
      perRound: {
        'warm /v1/resolve / bare Fastify': { values: [0.9, 0.95, 0.85], bound: true },
        'warm /v1/authz / bare Fastify': { values: [0.5, 0.9, 0.85], bound: false },
        'IdP hang: cold-token p99, JWKS hung / up': { values: [1.2, 1.7, 1.4], bound: false },
        [CEILING_WARM_1K]: { values: [12, 13, 14], bound: false },
      },
      rows: [],
      users: 1000,
      peakRssMb: 300,
      uniqueTokens: 200_000,
    });
    const verdict = (prefix: string) =>
      verdictOf(targets.find((t) => t.name.startsWith(prefix)) as (typeof targets)[number]);
    expect(verdict('warm /v1/resolve')).toBe('generator-bound: not a result');
    expect(verdict('warm /v1/authz')).toBe('met'); // median of the rounds: 0.85
    expect(verdict('IdP hang')).toBe('met'); // median 1.4
    expect(verdict('peak RSS')).toBe('**not met**');
    expect(verdict('bare Fastify / the recipe')).toBe('no goal: a ceiling');
    expect(targets.some((t) => t.name.startsWith('cold'))).toBe(false); // not run: left out

    const markdown = await writeReport(
      undefined,
      undefined,
      {
        at: '2026-12-02T00:00:00.000Z',
        wallSeconds: 60,
        command: 'npm run bench',
        machine: { cores: 2, model: 'x', loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], node: 'v20' },
        settings: { users: 1000, rounds: 1, duration: 2, generators: { wrk: true, h2load: true } },
        rows: [
          row({ generator: 'grpc-js', generatorCpuPct: GENERATOR_BOUND_PCT, generatorBound: true }),
        ],
      },
      targets,
    );
    expect(markdown).toContain('warm /v1/resolve **(generator-bound)** | http | grpc-js | 90 |');
    expect(markdown).toContain('| generator-bound: not a result |');
    // One short round proves the harness, nothing more: the report says so.
    expect(markdown).toContain('**Smoke run** (1 round(s) of 2 s');
  });
});
