import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK, SignJWT } from 'jose';

export interface SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface SignOptions {
  /** Which of the factory's keys signs (default: RS256). */
  readonly key?: SigningKey;
  /** `kid` header; `null` omits it. Defaults to the key's kid. */
  readonly kid?: string | null;
  /** Extra or overriding protected-header parameters. */
  readonly header?: Record<string, unknown>;
}

/** Generates real key pairs and signs tokens with them: the fixtures' identity provider. */
export class TokenFactory {
  private constructor(
    readonly rsa: SigningKey,
    readonly ec: SigningKey,
  ) {}

  static async create(prefix = 'test'): Promise<TokenFactory> {
    return new TokenFactory(
      await makeKey('RS256', `${prefix}-rsa`),
      await makeKey('ES256', `${prefix}-ec`),
    );
  }

  /** Public keys as published in a JWKS. */
  publicJwks(): JWK[] {
    return [this.rsa.publicJwk, this.ec.publicJwk];
  }

  async sign(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
    const key = options.key ?? this.rsa;
    const header: Record<string, unknown> = { alg: key.alg, typ: 'JWT', ...options.header };
    if (options.kid !== null) header.kid = options.kid ?? key.kid;
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }
}

export async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  // KeyObjects, which node:crypto signs with directly (hostile.ts signs shapes jose will not).
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

/** Standard claims for `issuer` at time `now` (seconds since epoch), overridable per test. */
export function claimsFor(
  issuer: string,
  audience: string,
  now: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return { iss: issuer, aud: audience, sub: 'user-1', iat: now - 10, exp: now + 600, ...overrides };
}

/** A compact token assembled by hand (for shapes no library would sign). */
export function compact(header: unknown, payload: unknown, signature = ''): string {
  const enc = (v: unknown) =>
    Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  return `${enc(header)}.${enc(payload)}.${signature}`;
}
