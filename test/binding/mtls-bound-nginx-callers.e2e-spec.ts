import { readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { curl } from '../tls/tls-fixture';
import { NginxGateway } from '../support/nginx-gateway';
import type { IssuedCertificate } from '../support/certificates';
import { MtlsFixture, resolveSubject } from './mtls-fixture';

/**
 * The production shape of certificate-bound tokens behind nginx: clients reach nginx over TLS
 * with their certificates, nginx reaches the resolver over TLS with its own gateway certificate
 * (docker/nginx/nginx.conf's TLS lines), and the resolver believes the forwarded certificate
 * because the TLS `callers` allow that gateway `forwarded-certificate` — no address or secret.
 * Clients that call ResolveSubject over the resolver's own gRPC TLS are checked against the
 * certificate they connect with.
 */
describe('certificate-bound tokens behind nginx, trusted as a TLS caller', () => {
  let fx: MtlsFixture;
  let nginx: NginxGateway;
  let backend: IssuedCertificate;

  beforeAll(async () => {
    let gateway: IssuedCertificate | undefined;
    fx = await MtlsFixture.start('mtls-callers', async (pki) => {
      const server = await pki.server('resolver');
      gateway = await pki.issue('gateway', {
        subject: '/CN=gateway',
        usage: 'client',
        san: 'DNS:gateway.internal',
      });
      backend = await pki.issue('backend', {
        subject: '/CN=backend',
        usage: 'client',
        san: 'DNS:backend.internal',
      });
      return {
        binding: { forwardedCertificate: { format: 'pem-url' } },
        tls: {
          http: {
            certFile: server.cert,
            keyFile: server.key,
            caFile: pki.caCert,
            clientCertificate: 'required',
          },
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
            { name: 'backend', san: ['DNS:backend.internal'], surfaces: ['resolve'] },
            // The token's own clients, calling ResolveSubject themselves with their certificate.
            {
              name: 'clients',
              san: ['DNS:client-a.example', 'DNS:client-b.example'],
              surfaces: ['resolve'],
            },
          ],
        },
      };
    });
    const edge = await fx.pki.server('nginx');
    nginx = await NginxGateway.start(
      fx.app.url,
      { cert: gateway!.cert, key: gateway!.key, ca: fx.pki.caCert },
      { ...edge, ca: fx.pki.caCert },
    );
  });

  afterAll(async () => {
    await nginx?.stop();
    await fx?.close();
  });

  const through = async (token: string, client?: 'a' | 'b') =>
    curl(`${nginx.url}/orders/42`, {
      ca: fx.pki.caCert,
      client: client ? fx.clients[client] : undefined,
      headers: { authorization: `Bearer ${token}` },
    });

  it("believes the gateway caller's forwarded certificate: the bound client gets through", async () => {
    const token = await fx.token(fx.clients.a);
    expect((await through(token, 'a')).status).toBe(200);
    expect((await through(token, 'b')).status).toBe(401);
    expect((await through(token)).status).toBe(401);
  });

  it("ResolveSubject over TLS: the calling client's own certificate is the one checked", async () => {
    const token = await fx.token(fx.clients.a);
    const over = (c: IssuedCertificate) =>
      resolveSubject(
        fx.app.resolver.grpcAddress,
        { token },
        {},
        credentials.createSsl(
          readFileSync(fx.pki.caCert),
          readFileSync(c.key),
          readFileSync(c.cert),
        ),
      );
    expect(await over(fx.clients.a)).toMatchObject({ ok: true });
    expect(await over(fx.clients.b)).toMatchObject({ code: 16, reason: 'BINDING_MISMATCH' });
    // A caller may not vouch for another certificate in the field: it is its own that counts.
    const field = await resolveSubject(
      fx.app.resolver.grpcAddress,
      { token, clientCertificate: fx.clients.a.pem },
      {},
      credentials.createSsl(
        readFileSync(fx.pki.caCert),
        readFileSync(fx.clients.b.key),
        readFileSync(fx.clients.b.cert),
      ),
    );
    expect(field).toMatchObject({ reason: 'BINDING_MISMATCH' });
  });

  it('refuses a forwarded certificate from a caller not allowed to forward one (403)', async () => {
    const token = await fx.token(fx.clients.a);
    const res = await curl(`${fx.app.url}/v1/resolve`, {
      ca: fx.pki.caCert,
      client: backend,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-client-cert': encodeURIComponent(fx.clients.a.pem),
      },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.body).toContain('forwarded_certificate_not_allowed');
    // Without the header the backend's own certificate is its own: not the token's.
    const own = await curl(`${fx.app.url}/v1/resolve`, {
      ca: fx.pki.caCert,
      client: backend,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect([own.status, (JSON.parse(own.body) as { reason?: string }).reason]).toEqual([
      401,
      'BINDING_MISMATCH',
    ]);
  });
});
