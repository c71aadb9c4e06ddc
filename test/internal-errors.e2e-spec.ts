import { UserAdministration } from '@resolver/provisioning';
import * as diagnosisJson from '../apps/resolver/src/diagnose/diagnosis-json';
import * as identityHeaders from '../apps/resolver/src/authz/identity-headers';
import * as resolutionMessage from '../apps/resolver/src/resolve/resolution-message';
import * as resolutionJson from '../apps/resolver/src/resolve/resolution-json';
import { createTestDatabase, seedUser, sqlPool } from './support/database';
import { DiagnoseGrpcClient } from './support/diagnose-grpc-client';
import { ExtAuthzClient } from './support/ext-authz-client';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, TokenFactory } from './support/token-factory';

const AUD = 'api://internal-errors';
const ISS = 'https://internal-errors.idp.test';
const ADMIN_TOKEN = 'admin-secret-for-internal-errors-01';

/** Captures the structured log lines of the app. */
class Capture {
  readonly chunks: string[] = [];
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  internalErrorLines(): Record<string, unknown>[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'internal_error');
  }
}

/**
 * A bug anywhere on a transport — in the use case or in translating its answer afterwards — is
 * counted in `resolver_internal_errors_total{transport}` exactly once and logged exactly once,
 * on every surface. Each case injects a fault into that transport's own translation step, the
 * place the use case can no longer see.
 */
describe('internal errors are counted once, on every transport', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let extAuthz: ExtAuthzClient;
  let diagnoseGrpc: DiagnoseGrpcClient;
  let userId: string;
  const capture = new Capture();
  const boom = () => {
    throw new Error('injected translation fault');
  };
  const token = () =>
    keys.sign(claimsFor(ISS, AUD, Math.floor(Date.now() / 1000), { sub: 'alice' }));

  const counts = async (): Promise<Record<string, number>> => {
    const text = (await app.http('/metrics')).body as string;
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^resolver_internal_errors_total\{transport="(\w+)"\} (\d+)$/gm))
      out[m[1] as string] = Number(m[2]);
    return out;
  };

  /** Runs `act` with one fault injected and asserts +1 on `surface` only, and one log line. */
  const expectCountedOnce = async (surface: string, act: () => Promise<void>) => {
    const before = await counts();
    const linesBefore = capture.internalErrorLines().length;
    await act();
    const after = await counts();
    expect(after).toEqual({ ...before, [surface]: (before[surface] ?? 0) + 1 });
    const lines = capture.internalErrorLines().slice(linesBefore);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ transport: surface });
    // The stack is logged, never the request's token.
    expect(JSON.stringify(lines[0])).not.toMatch(/eyJ[\w-]+\.eyJ/);
  };

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('ie');
    const databaseUrl = await createTestDatabase('internal_errors');
    app = await ResolverHarness.start({
      databaseUrl,
      env: { ADMIN_TOKEN },
      config: { logging: { level: 'error' } },
      logDestination: capture,
      issuers: [
        {
          issuer: ISS,
          jwksUri: idp.publishJwks('ie', keys.publicJwks()),
          audiences: [AUD],
          algorithms: ['RS256'],
        },
      ],
    });
    const db = sqlPool(databaseUrl);
    userId = await seedUser(db, ISS, { subject: 'alice' });
    await db.end();
    extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
    diagnoseGrpc = new DiagnoseGrpcClient(app.resolver.grpcAddress);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    extAuthz?.close();
    diagnoseGrpc?.close();
    await app?.close();
    await idp?.stop();
  });

  it('every surface is exported at zero', async () => {
    expect(Object.keys(await counts()).sort()).toEqual(
      ['admin', 'diagnose', 'ext_authz', 'forward_auth', 'grpc', 'http'].sort(),
    );
  });

  it('HTTP resolve: a fault translating the resolution is a 500 problem, counted once', async () => {
    await expectCountedOnce('http', async () => {
      jest.spyOn(resolutionJson, 'toResolutionJson').mockImplementationOnce(boom);
      const res = await app.resolveHttp({ token: await token() });
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(res.body)).not.toContain('injected');
    });
  });

  it('gRPC resolve: a fault in the translation, and one in encoding the answer', async () => {
    await expectCountedOnce('grpc', async () => {
      jest.spyOn(resolutionMessage, 'toResolveSubjectResponse').mockImplementationOnce(boom);
      expect(await app.resolveGrpc({ token: await token() })).toMatchObject({
        ok: false,
        code: 13,
      });
    });
    await expectCountedOnce('grpc', async () => {
      // A message field that is not an object: protobufjs refuses to encode the answer.
      jest
        .spyOn(resolutionMessage, 'toResolveSubjectResponse')
        .mockImplementationOnce(() => ({ principal: 5 }) as never);
      expect(await app.resolveGrpc({ token: await token() })).toMatchObject({
        ok: false,
        code: 13,
      });
    });
  });

  it('forward-auth: a fault building the identity headers', async () => {
    await expectCountedOnce('forward_auth', async () => {
      jest.spyOn(identityHeaders, 'identityHeaders').mockImplementationOnce(boom);
      const res = await app.http('/v1/authz', {
        headers: { authorization: `Bearer ${await token()}` },
      });
      expect(res.status).toBe(500);
    });
  });

  it('ext_authz: a fault building the identity headers is INTERNAL (Envoy fails closed)', async () => {
    await expectCountedOnce('ext_authz', async () => {
      jest.spyOn(identityHeaders, 'identityHeaders').mockImplementationOnce(boom);
      await expect(
        extAuthz.check({ authorization: `Bearer ${await token()}` }),
      ).rejects.toMatchObject({ code: 13 });
    });
  });

  it('diagnose, over HTTP and over gRPC: a fault translating the report', async () => {
    await expectCountedOnce('diagnose', async () => {
      jest.spyOn(diagnosisJson, 'toDiagnosisJson').mockImplementationOnce(boom);
      const res = await app.http('/v1/diagnose', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: await token() }),
      });
      expect(res.status).toBe(500);
    });
    await expectCountedOnce('diagnose', async () => {
      jest.spyOn(diagnosisJson, 'toDiagnoseSubjectResponse').mockImplementationOnce(boom);
      expect(await diagnoseGrpc.diagnose(await token(), ADMIN_TOKEN)).toMatchObject({
        ok: false,
        code: 13,
      });
    });
  });

  it('admin: a fault translating a user record', async () => {
    await expectCountedOnce('admin', async () => {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
      const real = UserAdministration.prototype.get;
      jest.spyOn(UserAdministration.prototype, 'get').mockImplementationOnce(async function (
        this: UserAdministration,
        id: string,
      ) {
        // A record whose translation to JSON throws.
        const user = await real.call(this, id);
        return Object.defineProperty({ ...user }, 'tenant', { get: boom, enumerable: true });
      });
      const res = await app.http(`/admin/v1/users/${userId}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(500);
    });
  });

  it('controls: without a fault, nothing is counted', async () => {
    const before = await counts();
    expect((await app.resolveHttp({ token: await token() })).status).toBe(200);
    expect(await app.resolveGrpc({ token: await token() })).toMatchObject({ ok: true });
    expect(
      (await app.http('/v1/authz', { headers: { authorization: `Bearer ${await token()}` } }))
        .status,
    ).toBe(200);
    expect(await counts()).toEqual(before);
  });
});
