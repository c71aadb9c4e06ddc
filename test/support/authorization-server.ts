import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import * as DPoP from 'dpop';

/** The client the authorisation server knows, and its secret. */
export const AS_CLIENT = { id: 'dpop-client', secret: 'binding-suite-secret' } as const;

/**
 * A real authorisation server (oidc-provider, test/support/oidc-provider-child.mjs) in a child
 * process on 127.0.0.1: it issues DPoP-bound JWT access tokens (RFC 9449) for `resource` by the
 * client-credentials grant, to a client whose proofs come from panva's `dpop` library.
 */
export class AuthorizationServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    readonly tokenEndpoint: string,
    readonly jwksUri: string,
    readonly resource: string,
  ) {}

  static async start(resource: string): Promise<AuthorizationServer> {
    const child = spawn(
      process.execPath,
      [join(__dirname, 'oidc-provider-child.mjs'), resource, AS_CLIENT.id],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`authorization server exited (${code})`)));
      child.stdout?.once('data', (data: Buffer) => resolve(String(data)));
    });
    const { issuer, tokenEndpoint, jwksUri } = JSON.parse(line) as Record<string, string>;
    return new AuthorizationServer(child, issuer!, tokenEndpoint!, jwksUri!, resource);
  }

  /** A DPoP-bound access token for `keypair`, the proof for the token request made by `dpop`. */
  async dpopToken(keypair: DPoP.KeyPair): Promise<string> {
    const proof = await DPoP.generateProof(keypair, this.tokenEndpoint, 'POST');
    const res = await fetch(this.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${AS_CLIENT.id}:${AS_CLIENT.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: proof,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'orders:read',
        resource: this.resource,
      }),
    });
    const body = (await res.json()) as { access_token?: string; token_type?: string };
    if (!res.ok || body.token_type !== 'DPoP' || !body.access_token)
      throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
