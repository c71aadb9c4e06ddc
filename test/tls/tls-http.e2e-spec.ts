import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { promtoolCheckMetrics } from '../support/promtool';
import { curl, sample, TlsFixture } from './tls-fixture';

const run = promisify(execFile);

/**
 * The HTTP listener over real TLS, driven by the curl CLI: HTTPS with HTTP/2 by ALPN, client
 * certificates optional on the connection and required per surface (callers by SAN and by
 * subject), refusals of bad certificates counted by reason, and TLS below 1.2 refused.
 */
describe('TLS on the HTTP listener (curl)', () => {
  let f: TlsFixture;
  const refusals = async (reason: string) =>
    sample(await f.metrics(), 'resolver_tls_refusals_total', { listener: 'http', reason }) ?? 0;

  beforeAll(async () => {
    f = await TlsFixture.start((pki, server) => ({
      http: {
        certFile: server.cert,
        keyFile: server.key,
        caFile: pki.caCert,
        clientCertificate: 'optional',
      },
      callers: [
        {
          name: 'gateway',
          san: ['DNS:gateway.internal'],
          surfaces: ['authz', 'forwarded-certificate'],
        },
        { name: 'backend', san: ['URI:spiffe://example/backend'], surfaces: ['resolve'] },
        {
          name: 'operator',
          subject: { CN: 'operator', O: 'Example' },
          surfaces: ['admin', 'diagnose'],
        },
      ],
    }));
  });
  afterAll(() => f?.close());

  it('serves HTTPS with HTTP/2 by ALPN, and HTTP/1.1 to a client that asks for it', async () => {
    const h2 = await curl(`${f.url}/health/live`, { ca: f.pki.caCert });
    expect(h2).toMatchObject({ exit: 0, status: 200, httpVersion: '2' });
    const h1 = await curl(`${f.url}/health/live`, { ca: f.pki.caCert, extra: ['--http1.1'] });
    expect(h1).toMatchObject({ exit: 0, status: 200, httpVersion: '1.1' });
    expect(f.url.startsWith('https://')).toBe(true);
  });

  it('without a client certificate: open surfaces answer, reserved ones are 403', async () => {
    expect((await curl(`${f.url}/metrics`, { ca: f.pki.caCert })).status).toBe(200);
    expect((await curl(`${f.url}/openapi.json`, { ca: f.pki.caCert })).status).toBe(200);
    const before = await refusals('caller_anonymous');
    const res = await curl(`${f.url}/v1/resolve`, {
      ca: f.pki.caCert,
      method: 'POST',
      headers: { authorization: `Bearer ${await f.token()}` },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({
      status: 403,
      type: 'urn:subject-resolver:tls:caller_anonymous',
    });
    expect(await refusals('caller_anonymous')).toBe(before + 1);
  });

  it('the backend (by URI SAN) resolves over HTTP/2; it may not call forward-auth', async () => {
    const auth = { authorization: `Bearer ${await f.token()}` };
    const res = await curl(`${f.url}/v1/resolve`, {
      ca: f.pki.caCert,
      client: f.certs.backend,
      method: 'POST',
      headers: auth,
    });
    expect(res).toMatchObject({ status: 200, httpVersion: '2' });
    expect(JSON.parse(res.body).principal.id).toBe(f.userId);
    const authz = await curl(`${f.url}/v1/authz`, {
      ca: f.pki.caCert,
      client: f.certs.backend,
      headers: auth,
    });
    expect(authz.status).toBe(403);
    expect(JSON.parse(authz.body).type).toBe('urn:subject-resolver:tls:caller_not_allowed');
  });

  it('the gateway (by DNS SAN) calls forward-auth, with forwarded certificate headers; nobody else sends them', async () => {
    const auth = { authorization: `Bearer ${await f.token()}` };
    const ok = await curl(`${f.url}/v1/authz`, {
      ca: f.pki.caCert,
      client: f.certs.gateway,
      headers: { ...auth, 'x-forwarded-client-cert': 'Hash=abc;Subject="CN=client"' },
      extra: ['-D', '-'],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.toLowerCase()).toContain(`x-user-id: ${f.userId}`);
    // The backend may resolve, but not pass on a certificate it claims a client presented.
    const before = await refusals('forwarded_certificate_not_allowed');
    for (const header of [
      'x-forwarded-client-cert',
      'client-cert',
      'ssl-client-cert',
      'X-SSL-Client-Cert',
    ]) {
      const res = await curl(`${f.url}/v1/resolve`, {
        ca: f.pki.caCert,
        client: f.certs.backend,
        method: 'POST',
        headers: { ...auth, [header]: ':MIIB...:' },
      });
      expect(res.status).toBe(403);
    }
    expect(await refusals('forwarded_certificate_not_allowed')).toBe(before + 4);
  });

  it('the operator (by subject) reaches the admin API, still behind its bearer credential', async () => {
    const admin = { authorization: 'Bearer tls-suite-admin-token-0123456789' };
    const ok = await curl(`${f.url}/admin/v1/users`, {
      ca: f.pki.caCert,
      client: f.certs.operator,
      headers: admin,
    });
    expect(ok.status).toBe(200);
    const noBearer = await curl(`${f.url}/admin/v1/users`, {
      ca: f.pki.caCert,
      client: f.certs.operator,
    });
    expect(noBearer.status).toBe(401);
    const gateway = await curl(`${f.url}/admin/v1/users`, {
      ca: f.pki.caCert,
      client: f.certs.gateway,
      headers: admin,
    });
    expect(gateway.status).toBe(403);
  });

  it('a valid certificate no caller names is refused on reserved surfaces, as is a hostile SAN or subject', async () => {
    const before = await refusals('caller_unknown');
    for (const client of [f.certs.stranger, f.certs.hostileSan]) {
      const res = await curl(`${f.url}/v1/authz`, {
        ca: f.pki.caCert,
        client,
        headers: { authorization: `Bearer ${await f.token()}` },
      });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).type).toBe('urn:subject-resolver:tls:caller_unknown');
      // Open surfaces stay open to it.
      expect((await curl(`${f.url}/health/live`, { ca: f.pki.caCert, client })).status).toBe(200);
    }
    expect(await refusals('caller_unknown')).toBe(before + 2);
  });

  it.each([
    ['expired', 'certificate_expired'],
    ['notYet', 'certificate_not_yet_valid'],
    ['untrusted', 'certificate_untrusted'],
    ['serverAsClient', 'certificate_invalid'],
  ] as const)(
    'a client certificate that is %s closes the connection, counted as %s',
    async (which, reason) => {
      const before = await refusals(reason);
      const res = await curl(`${f.url}/health/live`, { ca: f.pki.caCert, client: f.certs[which] });
      expect(res.exit).not.toBe(0);
      expect(res.status).toBe(0);
      expect(await refusals(reason)).toBe(before + 1);
      // The process is fine: the next caller is served.
      expect((await curl(`${f.url}/health/live`, { ca: f.pki.caCert })).status).toBe(200);
    },
  );

  it('refuses TLS 1.1 and a client that gives up mid-handshake, without harm', async () => {
    const before = await refusals('handshake_failed');
    const port = new URL(f.url).port;
    const legacy = await new Promise<number | null>((resolve) => {
      const child = spawn('openssl', [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-tls1_1',
        '-cipher',
        'DEFAULT@SECLEVEL=0',
      ]);
      child.stdin.end();
      child.on('close', resolve);
    });
    expect(legacy).not.toBe(0);
    expect(await refusals('handshake_failed')).toBeGreaterThan(before);
    // Plain HTTP on the TLS port, then a bare TCP connection closed at once.
    const plain = await curl(`http://127.0.0.1:${port}/health/live`, { ca: f.pki.caCert });
    expect(plain.status).not.toBe(200);
    await run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-`]);
    expect((await curl(`${f.url}/health/live`, { ca: f.pki.caCert })).status).toBe(200);
  });

  it('exports when the serving certificate expires, and /metrics lints clean with TLS on', async () => {
    const metrics = await f.metrics();
    const expiry = sample(metrics, 'resolver_tls_certificate_expiry_seconds', {
      listener: 'http',
      certificate: 'serving',
    });
    expect(expiry).toBeGreaterThan(Date.now() / 1000);
    expect(expiry).toBeLessThan(Date.now() / 1000 + 2 * 86_400);
    expect(
      sample(metrics, 'resolver_tls_certificate_expiry_seconds', {
        listener: 'http',
        certificate: 'client_ca',
      }),
    ).toBeGreaterThan(Date.now() / 1000);
    const lint = await promtoolCheckMetrics(metrics);
    expect(lint).toEqual({ code: 0, output: '' });
  });
});
