import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AUD, type SigningKey } from './tokens';

/** Keys configured as a static PEM (ES256). */
export const ISS = 'https://bench.idp.local';
/** Same key, just-in-time provisioning on. */
export const JIT_ISS = 'https://bench-jit.idp.local';
/**
 * Keys from a JWKS the bench serves and can hang: an RS256 key (what production issuers mostly
 * sign with, and what the warm, full-miss and recipe runs use) and an ES256 one (the "IdP hang"
 * tokens, cheaper to mint by the hundred thousand).
 */
export const JWKS_ISS = 'https://bench-jwks.idp.local';
/** Opaque tokens (RFC 7662) `bop_<sub>_<n>`, introspected at the endpoint the bench serves. */
export const OPAQUE_ISS = 'https://bench-opaque.idp.local';
/** The client secret the resolvers introspect with (client_secret_basic). */
export const INTROSPECTION_SECRET = 'bench-introspection-secret';

/** What a verifying baseline is told about the bench's keys (bench/baselines.ts, --keys). */
export interface PublicKeyEntry {
  readonly iss: string;
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly pem: string;
}

/** The bench IdP: its signing keys, and the JWKS endpoint of {@link JWKS_ISS}, which can hang. */
export class BenchIdp {
  readonly es256: SigningKey;
  readonly rs256: SigningKey;
  /** The ES256 key of the JWKS (kid differs from the static issuer's). */
  readonly jwksEs256: SigningKey;
  /** The static issuer's JWE decryption key (P-256, ECDH-ES+A256KW) and PASETO v4.public key. */
  readonly encryption: SigningKey;
  readonly paseto: SigningKey;
  private readonly server: Server;
  private readonly body: string;
  private readonly held: ServerResponse[] = [];
  private hung = false;
  url = '';

  constructor() {
    const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;
    const e = ec();
    const j = ec();
    const r = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.es256 = { pem: pem(e.privateKey), kid: 'bench' };
    this.jwksEs256 = { pem: pem(j.privateKey), kid: 'bench-es' };
    this.rs256 = { pem: pem(r.privateKey), kid: 'bench-rs' };
    this.encryption = { pem: pem(ec().privateKey), kid: 'bench-enc' };
    this.paseto = { pem: pem(generateKeyPairSync('ed25519').privateKey), kid: 'bench-paseto' };
    const jwk = (k: SigningKey, alg: string) => ({
      ...createPublicKey(k.pem).export({ format: 'jwk' }),
      kid: k.kid,
      alg,
      use: 'sig',
    });
    this.body = JSON.stringify({
      keys: [jwk(this.jwksEs256, 'ES256'), jwk(this.rs256, 'RS256')],
    });
    this.server = createServer((req, res) => {
      if (req.url === '/introspect') return this.introspect(req, res);
      if (this.hung) this.held.push(res);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(this.body);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/jwks`;
  }

  /** Writes the static issuer's public key where the resolvers' config points (`issuer.pem`). */
  async writeStaticKey(work: string): Promise<string> {
    const path = join(work, 'issuer.pem');
    await writeFile(path, createPublicKey(this.es256.pem).export({ format: 'pem', type: 'spki' }));
    return path;
  }

  /** Writes the static issuer's JWE decryption key (private, PKCS#8) for its `decryption`. */
  async writeEncryptionKey(work: string): Promise<string> {
    const path = join(work, 'encryption.pem');
    await writeFile(path, this.encryption.pem, { mode: 0o600 });
    return path;
  }

  /** The static issuer's PASETO v4.public key as a PASERK (`k4.public.…`). */
  pasetoPaserk(): string {
    const { x } = createPublicKey(this.paseto.pem).export({ format: 'jwk' });
    return `k4.public.${x as string}`;
  }

  /** Every public key with its issuer, for the verifying baselines. */
  publicKeys(): PublicKeyEntry[] {
    const spki = (k: SigningKey) =>
      createPublicKey(k.pem).export({ format: 'pem', type: 'spki' }) as string;
    return [
      { iss: ISS, kid: this.es256.kid, alg: 'ES256', pem: spki(this.es256) },
      { iss: JIT_ISS, kid: this.es256.kid, alg: 'ES256', pem: spki(this.es256) },
      { iss: JWKS_ISS, kid: this.jwksEs256.kid, alg: 'ES256', pem: spki(this.jwksEs256) },
      { iss: JWKS_ISS, kid: this.rs256.kid, alg: 'RS256', pem: spki(this.rs256) },
    ];
  }

  /** Introspection requests answered so far. */
  introspections = 0;

  /**
   * The introspection endpoint (RFC 7662) of the opaque issuer: `bop_<sub>_...` is active for
   * user `<sub>`, anything else inactive. The client's Basic
   * credentials are checked, as an AS does.
   */
  private introspect(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.introspections++;
      const expected = `Basic ${Buffer.from(`rs:${INTROSPECTION_SECRET}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":"invalid_client"}');
        return;
      }
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
      const [kind, sub] = token.split('_');
      const now = Math.floor(Date.now() / 1000);
      const answer =
        kind === 'bop' && sub
          ? {
              active: true,
              iss: OPAQUE_ISS,
              sub,
              aud: AUD,
              iat: now,
              exp: now + 3600,
              scope: 'bench',
            }
          : { active: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  }

  /** While hung, every JWKS request is held (until its client gives up) and counted. */
  hang(on: boolean): void {
    this.hung = on;
  }

  /** Requests held since the last call, released (destroyed). */
  release(): number {
    const n = this.held.length;
    for (const res of this.held.splice(0)) res.destroy();
    return n;
  }

  close(): void {
    this.release();
    this.server.close();
  }
}
