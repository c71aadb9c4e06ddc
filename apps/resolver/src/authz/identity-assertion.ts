import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
  SignJWT,
} from 'jose';
import type { AssertionConfig } from '@resolver/config';
import type { Clock } from '@resolver/observability';
import type { Resolution } from '@resolver/resolution';

export const ASSERTION_ALG = 'ES256';
export const ASSERTION_JWKS_PATH = '/.well-known/resolver-jwks.json';

/**
 * Signs the identity assertion: a short-lived ES256 JWT carrying the resolved principal, so a
 * backend can verify who the caller is (against {@link ASSERTION_JWKS_PATH}) instead of trusting
 * bare headers. The key is the resolver's own, loaded from `authz.assertion.keyFile` (PKCS#8 PEM
 * or a private JWK) or generated at boot — then every replica has its own key, and backends find
 * each one by `kid` in the JWKS of the replica that signed (use a shared keyFile behind a load
 * balancer).
 */
export class IdentityAssertionSigner {
  private constructor(
    private readonly config: AssertionConfig,
    private readonly key: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly clock: Clock,
  ) {}

  static async create(config: AssertionConfig, clock: Clock): Promise<IdentityAssertionSigner> {
    const { privateKey, publicJwk } = config.keyFile
      ? await loadKey(config.keyFile)
      : await generateKey();
    const kid = publicJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
    return new IdentityAssertionSigner(
      config,
      privateKey,
      {
        kty: publicJwk.kty,
        crv: publicJwk.crv,
        x: publicJwk.x,
        y: publicJwk.y,
        kid,
        alg: ASSERTION_ALG,
        use: 'sig',
      },
      clock,
    );
  }

  /** The public key set backends verify assertions with. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** The header name and the signed assertion for an allowed request. */
  async sign(resolution: Resolution): Promise<{ header: string; value: string }> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const tokenExp = resolution.token.expiresAt
      ? Math.floor(resolution.token.expiresAt.getTime() / 1000)
      : Number.POSITIVE_INFINITY;
    // Never outlives the bearer token it was derived from.
    const exp = Math.max(now + 1, Math.min(now + this.config.ttlSeconds, tokenExp));
    const { principal, token } = resolution;
    const value = await new SignJWT({
      kind: principal.kind,
      tenant: principal.tenantId,
      email: principal.email,
      username: principal.username,
      roles: [...principal.roles],
      src: { iss: token.issuer, sub: token.subject },
    })
      .setProtectedHeader({ alg: ASSERTION_ALG, kid: this.publicJwk.kid, typ: 'JWT' })
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setSubject(principal.id)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.key);
    return { header: this.config.header, value };
  }
}

interface AssertionKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function generateKey(): Promise<AssertionKey> {
  const pair = await generateKeyPair(ASSERTION_ALG, { extractable: true });
  return { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
}

/**
 * The key in `authz.assertion.keyFile`: a P-256 private key as PKCS#8 PEM or as a JWK. Anything
 * else (another curve or key type, a public key, text that is no key) stops the boot with a
 * message naming the setting, rather than failing every allowed request later.
 */
async function loadKey(path: string): Promise<AssertionKey> {
  const text = (await readFile(path, 'utf8')).trim();
  try {
    let key: AssertionKey;
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as JWK;
      const privateKey = typeof jwk.d === 'string' ? await importJWK(jwk, ASSERTION_ALG) : null;
      // An "oct" JWK imports as bytes: a secret, not a signing key either.
      if (privateKey === null || privateKey instanceof Uint8Array)
        throw new Error('the JWK holds no private key ("d")');
      const { d: _d, ...publicJwk } = jwk;
      key = { privateKey, publicJwk };
    } else {
      const privateKey = await importPKCS8(text, ASSERTION_ALG, { extractable: true });
      const { d: _d, ...publicJwk } = await exportJWK(privateKey);
      key = { privateKey, publicJwk };
    }
    if (key.publicJwk.kty !== 'EC' || key.publicJwk.crv !== 'P-256')
      throw new Error(`a ${key.publicJwk.kty} ${key.publicJwk.crv ?? ''} key`);
    return key;
  } catch (error) {
    throw new Error(
      `authz.assertion.keyFile: must be an EC P-256 private key (ES256), as PKCS#8 PEM or a private JWK: ${(error as Error).message}`,
    );
  }
}
