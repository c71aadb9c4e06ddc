import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import type { IssuedCertificate } from '../support/certificates';
import { ResolverGrpcClient } from '../support/grpc-client';
import { sample, TlsFixture } from './tls-fixture';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const CLIENT = join(__dirname, '..', 'support', 'tls_client.py');
const DESCRIPTORS = join(__dirname, '..', '..', 'proto', 'descriptor-set.binpb');

interface PythonCall {
  call: 'resolve' | 'check' | 'health';
  code: string;
  body?: Record<string, unknown>;
  details?: string;
}

/**
 * The gRPC listener over real TLS (grpc-js `ServerCredentials` with client certificates
 * required): Debian's Python grpcio calls ResolveSubject, ext_authz Check and health with and
 * without a client certificate; each caller reaches only its surfaces; bad certificates are
 * refused at the handshake, counted by reason, and the process serves on.
 */
describe('TLS on the gRPC listener (Python grpcio, grpc-js)', () => {
  let f: TlsFixture;
  const refusals = async (reason: string) =>
    sample(await f.metrics(), 'resolver_tls_refusals_total', { listener: 'grpc', reason }) ?? 0;

  const python = async (
    client?: IssuedCertificate,
  ): Promise<Record<PythonCall['call'], PythonCall>> => {
    const args = [CLIENT, f.app.resolver.grpcAddress, DESCRIPTORS, f.pki.caCert, await f.token()];
    if (client) args.push(client.cert, client.key);
    const { stdout } = await run(PYTHON, args, { timeout: 60_000 });
    const calls = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PythonCall);
    return Object.fromEntries(calls.map((c) => [c.call, c])) as Record<
      PythonCall['call'],
      PythonCall
    >;
  };

  const nodeClient = (client?: IssuedCertificate) =>
    new ResolverGrpcClient(
      f.app.resolver.grpcAddress.replace('127.0.0.1', 'localhost'),
      credentials.createSsl(
        readFileSync(f.pki.caCert),
        client ? readFileSync(client.key) : null,
        client ? readFileSync(client.cert) : null,
      ),
    );

  beforeAll(async () => {
    f = await TlsFixture.start((pki, server) => ({
      grpc: {
        certFile: server.cert,
        keyFile: server.key,
        caFile: pki.caCert,
        clientCertificate: 'required',
      },
      callers: [
        {
          name: 'gateway',
          san: ['DNS:gateway.internal'],
          surfaces: ['authz', 'forwarded-certificate'],
        },
        { name: 'backend', san: ['URI:spiffe://example/backend'], surfaces: ['resolve'] },
      ],
    }));
  });
  afterAll(() => f?.close());

  it('the gateway certificate calls Check but not ResolveSubject; health is open', async () => {
    const calls = await python(f.certs.gateway);
    expect(calls.check).toMatchObject({ code: 'OK' });
    expect(JSON.stringify(calls.check.body)).toContain(f.userId);
    expect(calls.resolve).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(calls.health).toMatchObject({ code: 'OK', body: { status: 'SERVING' } });
  });

  it('the backend certificate resolves but may not call Check', async () => {
    const before = await refusals('caller_not_allowed');
    const calls = await python(f.certs.backend);
    expect(calls.resolve).toMatchObject({ code: 'OK' });
    expect(JSON.stringify(calls.resolve.body)).toContain(f.userId);
    expect(calls.check).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await refusals('caller_not_allowed')).toBe(before + 1);
  });

  it('without a client certificate the connection is refused (required), counted as certificate_missing', async () => {
    const before = await refusals('certificate_missing');
    const calls = await python();
    for (const call of ['resolve', 'check', 'health'] as const)
      expect(calls[call].code).toBe('UNAVAILABLE');
    expect(await refusals('certificate_missing')).toBeGreaterThan(before);
  });

  it.each([
    ['expired', 'certificate_expired'],
    ['untrusted', 'certificate_untrusted'],
  ] as const)(
    'a client certificate that is %s is refused, counted as %s; the next caller is served',
    async (which, reason) => {
      const before = await refusals(reason);
      const bad = nodeClient(f.certs[which]);
      const refused = await bad.resolve({ token: await f.token() });
      bad.close();
      expect(refused).toMatchObject({ ok: false, code: 14 });
      expect(await refusals(reason)).toBeGreaterThan(before);
      const good = nodeClient(f.certs.backend);
      const served = await good.resolve({ token: await f.token() });
      good.close();
      expect(served).toMatchObject({ ok: true });
    },
  );

  it('only the gateway may send a forwarded client certificate in metadata', async () => {
    const before = await refusals('forwarded_certificate_not_allowed');
    const client = nodeClient(f.certs.backend);
    const res = await client.resolve({
      token: await f.token(),
      metadata: { 'x-forwarded-client-cert': 'Hash=abc;Subject="CN=someone"' },
    });
    client.close();
    expect(res).toMatchObject({ ok: false, code: 7 });
    expect(await refusals('forwarded_certificate_not_allowed')).toBe(before + 1);
  });

  it('exports the gRPC serving certificate and client CA expiry', async () => {
    const metrics = await f.metrics();
    for (const certificate of ['serving', 'client_ca'])
      expect(
        sample(metrics, 'resolver_tls_certificate_expiry_seconds', {
          listener: 'grpc',
          certificate,
        }),
      ).toBeGreaterThan(Date.now() / 1000);
  });
});
