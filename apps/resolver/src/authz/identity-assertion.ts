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
    private readonly key: CryptoKey | Uint8Array,
    private readonly publicJwk: JWK,
    private readonly clock: Clock,
  ) {}

  static async create(config: AssertionConfig, clock: Clock): Promise<IdentityAssertionSigner> {
    let privateKey: CryptoKey | Uint8Array;
    let publicJwk: JWK;
    if (config.keyFile) {
      const text = (await readFile(config.keyFile, 'utf8')).trim();
      if (text.startsWith('{')) {
        const jwk = JSON.parse(text) as JWK;
        privateKey = await importJWK(jwk, ASSERTION_ALG);
        const { d: _d, ...pub } = jwk;
        publicJwk = pub;
      } else {
        privateKey = await importPKCS8(text, ASSERTION_ALG, { extractable: true });
        const { d: _d, ...pub } = await exportJWK(privateKey);
        publicJwk = pub;
      }
    } else {
      const pair = await generateKeyPair(ASSERTION_ALG, { extractable: true });
      privateKey = pair.privateKey;
      publicJwk = await exportJWK(pair.publicKey);
    }
    if (publicJwk.kty !== 'EC' || publicJwk.crv !== 'P-256')
      throw new Error('authz.assertion.keyFile: must be an EC P-256 private key (ES256)');
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
