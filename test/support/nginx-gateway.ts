import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

/** The shipped example, run as it is apart from addresses, logs and temp paths. */
export const EXAMPLE_NGINX_CONF = join(__dirname, '..', '..', 'docker', 'nginx', 'nginx.conf');

function replaceOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  if (count !== 1)
    throw new Error(`docker/nginx/nginx.conf: expected "${from}" once, found it ${count} times`);
  return text.replace(from, to);
}

/**
 * Rewrites docker/nginx/nginx.conf for a test: the resolver and backend upstreams and the listen
 * address on loopback ports, logs and temp files in `dir`, one worker.
 */
export async function testNginxConf(
  dir: string,
  ports: { gateway: number; resolver: number; backend: number },
  tls?: GatewayTls,
): Promise<string> {
  let conf = await readFile(EXAMPLE_NGINX_CONF, 'utf8');
  if (tls) conf = resolverOverTls(conf, tls);
  conf = replaceOnce(conf, 'worker_processes auto;', 'worker_processes 1;');
  conf = replaceOnce(conf, 'error_log /dev/stderr warn;', `error_log ${dir}/error.log warn;`);
  conf = replaceOnce(
    conf,
    'access_log /dev/stdout resolver;',
    `access_log ${dir}/access.log resolver;`,
  );
  conf = replaceOnce(conf, 'server resolver:8080;', `server 127.0.0.1:${ports.resolver};`);
  conf = replaceOnce(conf, 'server backend:80;', `server 127.0.0.1:${ports.backend};`);
  conf = replaceOnce(conf, 'listen 80;', `listen 127.0.0.1:${ports.gateway};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `    ${t}_temp_path ${dir}/${t}_temp;`)
    .join('\n');
  conf = replaceOnce(conf, 'http {\n', `http {\n${temp}\n`);
  if (!existsSync('/etc/nginx/mime.types'))
    conf = replaceOnce(conf, 'include /etc/nginx/mime.types;', '');
  // Root may run the workers as root (test only; the example runs as the image's user).
  if (process.getuid?.() === 0) conf = `user root;\n${conf}`;
  return conf;
}

/** The gateway's client certificate and the CA of the resolver's serving certificate. */
export interface GatewayTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/**
 * The example's commented TLS lines switched on in place of the plaintext `proxy_pass`, with the
 * test's certificate paths: the suite runs exactly the lines the README tells operators to use.
 */
function resolverOverTls(conf: string, tls: GatewayTls): string {
  const plain = '            proxy_pass http://subject-resolver/v1/authz;\n';
  const start = conf.indexOf('            # proxy_pass https://subject-resolver/v1/authz;');
  const end = conf.indexOf('            proxy_http_version 1.1;', start);
  if (start < 0 || end < 0) throw new Error('docker/nginx/nginx.conf: the TLS lines are missing');
  const lines = conf
    .slice(start, end)
    .replace(/^( *)# /gm, '$1')
    .replace('/etc/nginx/tls/gateway.crt', tls.cert)
    .replace('/etc/nginx/tls/gateway.key', tls.key)
    .replace('/etc/nginx/tls/resolver-ca.crt', tls.ca);
  return replaceOnce(conf.slice(0, start) + lines + conf.slice(end), plain, '');
}

/** The gateway's own serving certificate, for its client-facing TLS listener. */
export interface ClientFacingTls {
  readonly cert: string;
  readonly key: string;
  /** The CA of `cert`, for the readiness check. */
  readonly ca: string;
}

/**
 * The example's commented client-certificate lines (certificate-bound tokens) switched on in
 * place of the plaintext listen, with the test's address and certificate paths.
 */
export function clientCertificateListener(
  conf: string,
  port: number,
  tls: Pick<ClientFacingTls, 'cert' | 'key'>,
): string {
  const first = '        # listen 443 ssl;\n';
  const last = '        # ssl_verify_client optional_no_ca;\n';
  const start = conf.indexOf(first);
  const end = conf.indexOf(last, start);
  if (start < 0 || end < 0)
    throw new Error('docker/nginx/nginx.conf: the client-certificate lines are missing');
  const lines = conf
    .slice(start, end + last.length)
    .replace(/^( *)# /gm, '$1')
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace('/etc/nginx/tls/gateway-server.crt', tls.cert)
    .replace('/etc/nginx/tls/gateway-server.key', tls.key);
  const swapped = conf.slice(0, start) + lines + conf.slice(end + last.length);
  return replaceOnce(swapped, `        listen 127.0.0.1:${port};\n`, '');
}

/** Whether `url` answers 200, over HTTPS with `ca` when given. */
function healthy(url: string, ca?: Buffer): Promise<boolean> {
  if (!ca)
    return fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
  return new Promise((resolve) => {
    const req = httpsGet(url, { ca, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** What the echo backend saw: one entry per request that got through the gateway. */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** A real Nginx (Debian package) in front of an echo backend, both on 127.0.0.1. */
export class NginxGateway {
  private constructor(
    readonly url: string,
    readonly dir: string,
    private readonly nginx: ChildProcess,
    private readonly backend: Server,
    /** Requests that reached the backend, in order. */
    readonly received: EchoedRequest[],
  ) {}

  static async start(
    resolverHttpUrl: string,
    tls?: GatewayTls,
    clientTls?: ClientFacingTls,
  ): Promise<NginxGateway> {
    const dir = await mkdtemp(join(tmpdir(), 'resolver-nginx-'));
    await chmod(dir, 0o755);
    const received: EchoedRequest[] = [];
    const backend = createServer((req, res) => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const address = backend.address();
    const backendPort = typeof address === 'object' && address ? address.port : 0;
    const gatewayPort = await freePort();
    let conf = await testNginxConf(
      dir,
      {
        gateway: gatewayPort,
        resolver: Number(new URL(resolverHttpUrl).port),
        backend: backendPort,
      },
      tls,
    );
    if (clientTls) conf = clientCertificateListener(conf, gatewayPort, clientTls);
    const confPath = join(dir, 'nginx.conf');
    await writeFile(confPath, conf);
    const nginx = spawn(
      'nginx',
      [
        '-e',
        join(dir, 'error.log'),
        '-p',
        dir,
        '-c',
        confPath,
        '-g',
        `daemon off; pid ${dir}/nginx.pid;`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const gateway = new NginxGateway(
      `${clientTls ? 'https' : 'http'}://127.0.0.1:${gatewayPort}`,
      dir,
      nginx,
      backend,
      received,
    );
    // Bounded wait until nginx answers its own health location.
    const ca = clientTls ? await readFile(clientTls.ca) : undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (nginx.exitCode !== null) break;
      if (await healthy(`${gateway.url}/healthz`, ca)) return gateway;
      await new Promise((r) => setTimeout(r, 50));
    }
    await gateway.stop();
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${stderr}${log}`);
  }

  async stop(): Promise<void> {
    if (this.nginx.exitCode === null && this.nginx.signalCode === null) {
      const exited = new Promise<void>((r) => this.nginx.once('exit', () => r()));
      this.nginx.kill('SIGTERM'); // fast shutdown of master and workers
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
      if (this.nginx.exitCode === null && this.nginx.signalCode === null)
        this.nginx.kill('SIGKILL');
    }
    await new Promise<void>((r) => this.backend.close(() => r()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
