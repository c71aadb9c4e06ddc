import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { curl } from '../tls/tls-fixture';
import { eventually } from '../support/eventually';
import { NginxGateway } from '../support/nginx-gateway';
import { claimsOf, httpFrom, MtlsFixture } from './mtls-fixture';

/**
 * Certificate-bound tokens (RFC 8705) behind a real nginx running docker/nginx/nginx.conf with
 * its client-certificate lines switched on: clients connect to nginx over TLS with their
 * certificate, nginx forwards `$ssl_client_escaped_cert` in X-Client-Cert to forward-auth, and
 * the resolver believes it because nginx connects from a trusted source (127.0.0.1). Tokens come
 * from a real authorisation server (oidc-provider) that bound them to each client's certificate.
 */
describe('certificate-bound tokens behind nginx (docker/nginx/nginx.conf)', () => {
  let fx: MtlsFixture;
  let nginx: NginxGateway;

  beforeAll(async () => {
    fx = await MtlsFixture.start('mtls-nginx', async () => ({
      binding: { forwardedCertificate: { format: 'pem-url', trustedSources: ['127.0.0.1'] } },
    }));
    const server = await fx.pki.server('nginx');
    nginx = await NginxGateway.start(fx.app.url, undefined, { ...server, ca: fx.pki.caCert });
  });

  afterAll(async () => {
    await nginx?.stop();
    await fx?.close();
  });

  const logged = async () =>
    (await readFile(join(nginx.dir, 'access.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '');

  /**
   * One request through nginx over TLS (with a client's certificate, or none), and the resolver's
   * reason as nginx logged it for this request (the client never sees it).
   */
  const through = async (
    token: string,
    client?: 'a' | 'b',
    headers: Record<string, string> = {},
  ) => {
    const before = (await logged()).length;
    const res = await curl(`${nginx.url}/orders/42`, {
      ca: fx.pki.caCert,
      client: client ? fx.clients[client] : undefined,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    await eventually('nginx logged the request', async () => (await logged()).length > before);
    const reason = / reason=(\S*)/.exec((await logged())[before] ?? '')?.[1];
    return { status: res.status, body: res.body, reason };
  };

  it('lets the client whose certificate the token is bound to through', async () => {
    const token = await fx.token(fx.clients.a);
    expect(claimsOf(token).cnf).toEqual({ 'x5t#S256': fx.clients.a.x5t });
    const before = nginx.received.length;
    const res = await through(token, 'a');
    expect(res.status).toBe(200);
    expect(nginx.received.length).toBe(before + 1);
    expect(nginx.received.at(-1)?.headers['x-principal-kind']).toBe('service');
  });

  it("refuses the token with another client's certificate", async () => {
    const res = await through(await fx.token(fx.clients.a), 'b');
    expect(res.status).toBe(401);
    expect(res.body).not.toContain('BINDING_MISMATCH'); // the end user sees no detail
    expect(res.reason).toBe('BINDING_MISMATCH');
  });

  it('refuses the token without a certificate: never a bearer token', async () => {
    const res = await through(await fx.token(fx.clients.a));
    expect(res).toMatchObject({ status: 401, reason: 'PROOF_MISSING' });
  });

  it("refuses a client's own X-Client-Cert claim: nginx replaces it with what TLS saw", async () => {
    const token = await fx.token(fx.clients.a);
    const forged = { 'x-client-cert': encodeURIComponent(fx.clients.a.pem) };
    expect(await through(token, undefined, forged)).toMatchObject({
      status: 401,
      reason: 'PROOF_MISSING',
    });
    expect(await through(token, 'b', forged)).toMatchObject({
      status: 401,
      reason: 'BINDING_MISMATCH',
    });
  });

  it('ignores a forwarded certificate from an untrusted source (127.0.0.2)', async () => {
    const token = await fx.token(fx.clients.a);
    const headers = {
      authorization: `Bearer ${token}`,
      'x-client-cert': encodeURIComponent(fx.clients.a.pem),
    };
    const port = new URL(fx.app.url).port;
    const untrusted = await httpFrom('127.0.0.2', `http://127.0.0.1:${port}/v1/authz`, headers);
    expect(untrusted.status).toBe(401);
    expect(untrusted.headers['x-auth-reason']).toBe('PROOF_MISSING');
    // The same request from the trusted source is believed: the source is what decided.
    const trusted = await httpFrom('127.0.0.1', `http://127.0.0.1:${port}/v1/authz`, headers);
    expect(trusted.status).toBe(200);
  });

  it('answers hostile certificate headers with a refusal, never a 5xx', async () => {
    const token = await fx.token(fx.clients.a);
    const port = new URL(fx.app.url).port;
    const url = `http://127.0.0.1:${port}/v1/authz`;
    const hostile = [
      '%',
      '%C0%80',
      encodeURIComponent(fx.clients.a.pem).slice(0, 200),
      encodeURIComponent(`${fx.clients.a.pem}${fx.clients.b.pem}`),
      encodeURIComponent('-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----'),
      'A'.repeat(12_000),
    ];
    for (const value of hostile) {
      const res = await httpFrom('127.0.0.1', url, {
        authorization: `Bearer ${token}`,
        'x-client-cert': value,
      });
      expect(res.status).toBe(401);
      expect(res.headers['x-auth-reason']).toBe('PROOF_INVALID');
    }
    // Past Node's header limit the request never reaches the resolver's code: 431, not 5xx.
    const huge = await httpFrom('127.0.0.1', url, {
      authorization: `Bearer ${token}`,
      'x-client-cert': 'A'.repeat(40_000),
    });
    expect(huge.status).toBe(431);
    expect((await through(token, 'a')).status).toBe(200);
  });
});
