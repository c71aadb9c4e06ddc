import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECRET = 'introspection-suite-caller-secret';

/** The resource server clients the resolver introspects as, one per client authentication. */
export interface ResourceServerClients {
  readonly basic: { readonly id: string; readonly secret: string };
  readonly post: { readonly id: string; readonly secret: string };
  /** private_key_jwt: the PKCS#8 PEM file of its key (the AS holds the public key). */
  readonly jwt: { readonly id: string; readonly privateKeyFile: string };
}

/**
 * A real authorisation server (oidc-provider, test/support/oidc-provider-introspection.mjs) in a
 * child process on 127.0.0.1, issuing opaque access tokens with `prefix` by the
 * client-credentials grant, and serving introspection and revocation.
 */
export class IntrospectingAuthorizationServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    readonly tokenEndpoint: string,
    readonly introspectionEndpoint: string,
    readonly revocationEndpoint: string,
    readonly rs: ResourceServerClients,
  ) {}

  static async start(options: {
    prefix: string;
    resource: string;
    shortResource: string;
    callers: string[];
  }): Promise<IntrospectingAuthorizationServer> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = mkdtempSync(join(tmpdir(), 'introspection-as-'));
    const privateKeyFile = join(dir, 'rs-jwt.pem');
    writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const rs: ResourceServerClients = {
      basic: { id: 'rs-basic', secret: 'rs-basic-secret: with a colon & more' },
      post: { id: 'rs-post', secret: 'rs-post-secret' },
      jwt: { id: 'rs-jwt', privateKeyFile },
    };
    const args = {
      ...options,
      secret: SECRET,
      rs: {
        basic: rs.basic,
        post: rs.post,
        jwt: { id: rs.jwt.id, jwk: { ...publicKey.export({ format: 'jwk' }), alg: 'ES256' } },
      },
    };
    const child = spawn(
      process.execPath,
      [join(__dirname, 'oidc-provider-introspection.mjs'), JSON.stringify(args)],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`authorization server exited (${code})`)));
      child.stdout?.once('data', (data: Buffer) => resolve(String(data)));
    });
    const urls = JSON.parse(line) as Record<string, string>;
    return new IntrospectingAuthorizationServer(
      child,
      urls.issuer!,
      urls.tokenEndpoint!,
      urls.introspectionEndpoint!,
      urls.revocationEndpoint!,
      rs,
    );
  }

  private basic(caller: string): string {
    return `Basic ${Buffer.from(`${caller}:${SECRET}`).toString('base64')}`;
  }

  /** An opaque access token for `caller` (its sub), for `resource` (default: the main one). */
  async token(caller: string, resource?: string): Promise<string> {
    const res = await fetch(this.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: this.basic(caller),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'orders:read',
        ...(resource ? { resource } : {}),
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token)
      throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  /** Revokes a token at the AS (RFC 7009), as its caller. */
  async revoke(caller: string, token: string): Promise<void> {
    const res = await fetch(this.revocationEndpoint, {
      method: 'POST',
      headers: {
        authorization: this.basic(caller),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    if (!res.ok) throw new Error(`revocation failed: ${res.status}`);
  }

  /** How many introspection requests reached the AS so far. */
  async introspections(): Promise<number> {
    const res = await fetch(`${this.issuer}/_introspections`);
    return ((await res.json()) as { introspections: number }).introspections;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/**
 * An endpoint that accepts connections and never answers (a hung AS), counting the
 * introspection requests that reach it.
 */
export class HungEndpoint {
  requests = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: NetServer,
    readonly url: string,
  ) {}

  static async start(): Promise<HungEndpoint> {
    const server = createNetServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const hung = new HungEndpoint(server, `http://127.0.0.1:${port}/introspect`);
    server.on('connection', (socket) => {
      hung.sockets.add(socket);
      socket.on('data', (data) => {
        hung.requests += (String(data).match(/^POST /gm) ?? []).length;
      });
      socket.on('close', () => hung.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    return hung;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** An introspection endpoint that answers whatever the test sets (adversarial answers). */
export class ScriptedEndpoint {
  answer: { status: number; contentType: string; body: string } = {
    status: 200,
    contentType: 'application/json',
    body: '{"active":false}',
  };
  requests = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedEndpoint> {
    const holder: { self?: ScriptedEndpoint } = {};
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const self = holder.self!;
        self.requests++;
        res.writeHead(self.answer.status, { 'content-type': self.answer.contentType });
        res.end(self.answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    holder.self = new ScriptedEndpoint(server, `http://127.0.0.1:${port}/introspect`);
    return holder.self;
  }

  json(body: unknown): void {
    this.answer = {
      status: 200,
      contentType: 'application/json',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
