import { copyFile, rename } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';
import { copyFileSync, readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import type { IssuedCertificate } from '../support/certificates';
import { ResolverGrpcClient } from '../support/grpc-client';
import { NginxGateway } from '../support/nginx-gateway';
import { curl, sample, TlsFixture } from './tls-fixture';

/** The serial number of the certificate a fresh TLS connection to `port` is served. */
function servedSerial(port: number, ca: string, alpn: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ca: readFileSync(ca),
        servername: 'localhost',
        ALPNProtocols: alpn,
      },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.on('error', reject);
  });
}

/** Replaces a listener's files the way a rotation does: each file renamed into place. */
async function rotate(target: IssuedCertificate, next: IssuedCertificate): Promise<void> {
  await copyFile(next.cert, `${target.cert}.new`);
  await copyFile(next.key, `${target.key}.new`);
  await rename(`${target.key}.new`, target.key);
  await rename(`${target.cert}.new`, target.cert);
}

/**
 * A real nginx calling forward-auth over TLS with the gateway's client certificate (the example
 * config's TLS lines), and certificates rotated under bounded load on both listeners: no
 * request fails, open connections are kept, new ones get the new certificate, and a rotation
 * whose key does not fit is refused while the previous certificate is served on.
 */
describe('TLS: nginx forward-auth with a client certificate, and hot reload under load', () => {
  let f: TlsFixture;
  let nginx: NginxGateway;
  let httpFiles: IssuedCertificate;
  let grpcFiles: IssuedCertificate;

  beforeAll(async () => {
    f = await TlsFixture.start((pki, server) => {
      // Each listener serves copies of its own, so that each can be rotated alone.
      httpFiles = { cert: `${server.cert}.http`, key: `${server.key}.http` };
      grpcFiles = { cert: `${server.cert}.grpc`, key: `${server.key}.grpc` };
      for (const files of [httpFiles, grpcFiles]) {
        copyFileSync(server.cert, files.cert);
        copyFileSync(server.key, files.key);
      }
      const listener = (files: IssuedCertificate) => ({
        certFile: files.cert,
        keyFile: files.key,
        caFile: pki.caCert,
        clientCertificate: 'required',
      });
      return {
        http: { ...listener(httpFiles), http2: false },
        grpc: listener(grpcFiles),
        reloadIntervalMs: 200,
        callers: [
          { name: 'gateway', san: ['DNS:gateway.internal'], surfaces: ['authz'] },
          {
            name: 'backend',
            san: ['URI:spiffe://example/backend'],
            surfaces: ['resolve', 'metrics'],
          },
        ],
      };
    });
    nginx = await NginxGateway.start(f.url, {
      cert: f.certs.gateway.cert,
      key: f.certs.gateway.key,
      ca: f.pki.caCert,
    });
  });
  afterAll(async () => {
    await nginx?.stop();
    await f?.close();
  });

  const metrics = async () => {
    // Client certificates are required on this listener: read /metrics as the backend.
    return (await curl(`${f.url}/metrics`, { ca: f.pki.caCert, client: f.certs.backend })).body;
  };

  it('nginx calls forward-auth over TLS with the gateway certificate and forwards the identity', async () => {
    const before = nginx.received.length;
    const ok = await fetch(`${nginx.url}/orders`, {
      headers: { authorization: `Bearer ${await f.token()}` },
    });
    expect(ok.status).toBe(200);
    expect(nginx.received.length).toBe(before + 1);
    expect(nginx.received.at(-1)?.headers['x-user-id']).toBe(f.userId);
    const denied = await fetch(`${nginx.url}/orders`);
    expect(denied.status).toBe(401);
    expect(nginx.received.length).toBe(before + 1);
  });

  it('rotates both certificates under load: no failed request, kept connections, new certificate served', async () => {
    const port = Number(new URL(f.url).port);
    const grpcPort = Number(f.app.resolver.grpcAddress.split(':').pop());
    const oldHttp = await servedSerial(port, f.pki.caCert, ['http/1.1']);
    const oldGrpc = await servedSerial(grpcPort, f.pki.caCert, ['h2']);
    const rotated = await f.pki.server('rotated');
    expect(rotated.cert).not.toBe(httpFiles.cert);

    const token = await f.token();
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 4,
      ca: readFileSync(f.pki.caCert),
      cert: readFileSync(f.certs.gateway.cert),
      key: readFileSync(f.certs.gateway.key),
      servername: 'localhost',
    });
    const direct = () =>
      new Promise<{ status: number; reused: boolean }>((resolve) => {
        const req = request(
          `${f.url}/v1/authz`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', () => resolve({ status: 0, reused: false }));
        req.end();
      });
    const grpc = new ResolverGrpcClient(
      `localhost:${grpcPort}`,
      credentials.createSsl(
        readFileSync(f.pki.caCert),
        readFileSync(f.certs.backend.key),
        readFileSync(f.certs.backend.cert),
      ),
    );
    expect(await grpc.resolve({ token })).toMatchObject({ ok: true });

    const statuses = new Map<string, number>();
    const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
    let reused = 0;
    let stop = false;
    const deadline = Date.now() + 30_000;
    const worker = async (kind: 'direct' | 'nginx' | 'grpc') => {
      // Bounded: until the rotation is seen (or 30 s), at most 2000 requests per worker.
      for (let i = 0; i < 2000 && !stop && Date.now() < deadline; i++) {
        if (kind === 'direct') {
          const res = await direct();
          if (res.reused) reused++;
          count(`direct ${res.status}`);
        } else if (kind === 'nginx') {
          const res = await fetch(`${nginx.url}/orders`, {
            headers: { authorization: `Bearer ${token}` },
          })
            .then(async (r) => (await r.arrayBuffer(), r.status))
            .catch(() => 0);
          count(`nginx ${res}`);
        } else {
          const res = await grpc.resolve({ token });
          count(`grpc ${res.ok ? 'OK' : res.code}`);
        }
      }
    };
    const load = Promise.all([worker('direct'), worker('direct'), worker('nginx'), worker('grpc')]);
    await new Promise((r) => setTimeout(r, 500));
    await rotate(httpFiles, rotated);
    await rotate(grpcFiles, rotated);
    let newHttp = oldHttp;
    let newGrpc = oldGrpc;
    while (Date.now() < deadline && (newHttp === oldHttp || newGrpc === oldGrpc)) {
      await new Promise((r) => setTimeout(r, 100));
      newHttp = await servedSerial(port, f.pki.caCert, ['http/1.1']);
      newGrpc = await servedSerial(grpcPort, f.pki.caCert, ['h2']);
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await load;
    agent.destroy();
    grpc.close();

    expect(newHttp).not.toBe(oldHttp);
    expect(newGrpc).not.toBe(oldGrpc);
    // Every request answered, and answered yes: nothing failed across the rotation.
    const seen = Object.fromEntries(statuses);
    expect(Object.keys(seen).sort()).toEqual(['direct 200', 'grpc OK', 'nginx 200']);
    expect(seen['direct 200']).toBeGreaterThan(10);
    expect(seen['nginx 200']).toBeGreaterThan(5);
    expect(seen['grpc OK']).toBeGreaterThan(5);
    // Kept-alive connections from before the rotation carried on.
    expect(reused).toBeGreaterThan(0);
    const text = await metrics();
    for (const listener of ['http', 'grpc'])
      expect(
        sample(text, 'resolver_tls_reloads_total', { listener, result: 'success' }),
      ).toBeGreaterThanOrEqual(1);
  });

  it("a rotation whose key is not the certificate's is refused and the previous certificate served on", async () => {
    const port = Number(new URL(f.url).port);
    const serving = await servedSerial(port, f.pki.caCert, ['http/1.1']);
    const before =
      sample(await metrics(), 'resolver_tls_reloads_total', {
        listener: 'http',
        result: 'failure',
      }) ?? 0;
    const other = await f.pki.server('other');
    await copyFile(other.cert, `${httpFiles.cert}.new`);
    await rename(`${httpFiles.cert}.new`, httpFiles.cert); // the key stays the old one
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await servedSerial(port, f.pki.caCert, ['http/1.1'])).toBe(serving);
    expect(
      sample(await metrics(), 'resolver_tls_reloads_total', {
        listener: 'http',
        result: 'failure',
      }),
    ).toBeGreaterThan(before);
    const ok = await fetch(`${nginx.url}/orders`, {
      headers: { authorization: `Bearer ${await f.token()}` },
    });
    expect(ok.status).toBe(200);
  });
});
