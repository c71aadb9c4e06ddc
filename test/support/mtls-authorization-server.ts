import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { IssuedCertificate, TestPki } from './certificates';

export interface MtlsClient {
  readonly clientId: string;
  /** The DNS SAN its certificate carries, registered as `tls_client_auth_san_dns`. */
  readonly sanDns: string;
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * panva's oidc-provider, in a child process (it is ESM only), issuing certificate-bound JWT
 * access tokens (RFC 8705) to clients that authenticate with their certificate. The suite asks
 * for tokens over real mutual TLS with node:https; the public signing key is returned for the
 * resolver's JWKS fixture.
 */
export class MtlsAuthorizationServer {
  private constructor(
    readonly issuer: string,
    readonly publicJwk: JsonWebKey,
    private readonly ca: Buffer,
    private readonly child: ChildProcess,
  ) {}

  static async start(
    pki: TestPki,
    server: IssuedCertificate,
    clients: readonly MtlsClient[],
    audience: string,
  ): Promise<MtlsAuthorizationServer> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = 'mtls-as-1';
    const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
    const options = {
      cert: server.cert,
      key: server.key,
      ca: pki.caCert,
      clients,
      audience,
      signingJwk,
    };
    const child = spawn(process.execPath, [join(__dirname, 'oidc-provider-mtls.mjs')], {
      env: { ...process.env, MTLS_AS_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 10_000) stderr += chunk.toString();
    });
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no issuer in 20 s: ${stderr}`)), 20_000);
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { issuer: string }).issuer);
      });
    });
    return new MtlsAuthorizationServer(issuer, publicJwk, await readFile(pki.caCert), child);
  }

  /** The client-credentials grant at the token endpoint, over TLS with `client`'s certificate. */
  async token(clientId: string, client: IssuedCertificate | undefined): Promise<TokenAnswer> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId });
    const tls = client
      ? { cert: await readFile(client.cert), key: await readFile(client.key) }
      : {};
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.issuer}/token`,
        {
          method: 'POST',
          ca: this.ca,
          ...tls,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body.toString());
    });
  }

  /** A bound access token for `clientId`, or a thrown error saying why none came. */
  async accessToken(clientId: string, client: IssuedCertificate): Promise<string> {
    const answer = await this.token(clientId, client);
    const token = answer.body.access_token;
    if (answer.status !== 200 || typeof token !== 'string')
      throw new Error(`token endpoint answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return token;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
