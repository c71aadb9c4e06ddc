import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { JWK } from 'jose';

/**
 * A fixture identity provider on 127.0.0.1: serves JWKS documents and OIDC discovery documents
 * per path, counts requests, and can be told to fail or stall (outage tests).
 */
export class JwksServer {
  private server: Server | undefined;
  private readonly documents = new Map<string, unknown>();
  private readonly hits = new Map<string, number>();
  private failing = new Set<string>();
  private stalling = new Set<string>();
  /** Responses held open by {@link stall}, answered 503 on recover/stop. */
  private held: ServerResponse[] = [];
  /** The headers of every request received, in order (trace context checks). */
  readonly received: { path: string; headers: IncomingHttpHeaders }[] = [];
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  async stop(): Promise<void> {
    this.releaseHeld();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Publishes a JWKS at `/jwks/<name>` and returns its URL. */
  publishJwks(name: string, keys: JWK[]): string {
    this.documents.set(`/jwks/${name}`, { keys });
    return `${this.base}/jwks/${name}`;
  }

  /** Publishes an OIDC discovery document for issuer `<base>/<name>` pointing at its JWKS. */
  publishDiscovery(name: string, keys: JWK[], issuerOverride?: string): string {
    const issuer = `${this.base}/${name}`;
    const jwksUri = this.publishJwks(name, keys);
    this.documents.set(`/${name}/.well-known/openid-configuration`, {
      issuer: issuerOverride ?? issuer,
      jwks_uri: jwksUri,
    });
    return issuer;
  }

  /** Makes a path answer 503 until {@link recover}. */
  fail(path: string): void {
    this.failing.add(path);
  }

  /** Makes a path accept the request and never answer (a hung IdP) until {@link recover}. */
  stall(path: string): void {
    this.stalling.add(path);
  }

  recover(path: string): void {
    this.failing.delete(path);
    this.stalling.delete(path);
    this.releaseHeld();
  }

  private releaseHeld(): void {
    for (const res of this.held.splice(0)) if (!res.writableEnded) res.writeHead(503).end();
  }

  requests(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** Every request this server has received, on any path. */
  totalRequests(): number {
    let total = 0;
    for (const n of this.hits.values()) total += n;
    return total;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] as string;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    if (this.received.length < 1000) this.received.push({ path, headers: req.headers });
    const doc = this.documents.get(path);
    if (this.stalling.has(path)) {
      this.held.push(res);
      return;
    }
    if (this.failing.has(path)) {
      res.writeHead(503).end();
      return;
    }
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  }
}
