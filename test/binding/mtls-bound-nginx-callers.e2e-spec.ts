import { curl } from '../tls/tls-fixture';
import { NginxGateway } from '../support/nginx-gateway';
import type { IssuedCertificate } from '../support/certificates';
import { MtlsFixture } from './mtls-fixture';

/**
 * The production shape of certificate-bound tokens behind nginx: clients reach nginx over TLS
 * with their certificates, nginx reaches the resolver over TLS with its own gateway certificate
 * (docker/nginx/nginx.conf's TLS lines), and the resolver believes the forwarded certificate
 * because the TLS `callers` allow that gateway `forwarded-certificate` — no address or secret.
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
          callers: [
            {
              name: 'gateway',
              san: ['DNS:gateway.internal'],
              surfaces: ['authz', 'forwarded-certificate'],
            },
            { name: 'backend', san: ['DNS:backend.internal'], surfaces: ['resolve'] },
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
