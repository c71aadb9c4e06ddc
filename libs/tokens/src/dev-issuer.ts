import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { IssuerConfig } from '@resolver/config';

/** The embedded development issuer: a key pair under the data dir, tokens minted by the CLI. */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

const KEY_FILE = 'dev-issuer-key.json';
const INFO_FILE = 'dev-issuer.json';
export const DEV_AUDIENCE = 'subject-resolver-dev';
export const DEV_JWKS_PATH = '/dev/jwks.json';

/**
 * Loads the dev issuer's key pair from `dataDir`, creating it on first start, and records the
 * issuer URL for the CLI. Development only: nothing calls this outside embedded mode.
 */
export async function ensureDevIssuer(dataDir: string, issuer: string): Promise<DevIssuer> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keyPath = join(dataDir, KEY_FILE);
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(await readFile(keyPath, 'utf8')) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateJwk = {
      ...(await exportJWK(privateKey)),
      alg: 'ES256',
      kid: `dev-${Date.now().toString(36)}`,
    };
    await writeFile(keyPath, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const { d: _d, ...publicJwk } = privateJwk;
  const dev: DevIssuer = {
    issuer,
    audience: DEV_AUDIENCE,
    kid: privateJwk.kid as string,
    privateJwk,
    publicJwk,
  };
  await writeFile(
    join(dataDir, INFO_FILE),
    JSON.stringify({ issuer, audience: DEV_AUDIENCE, kid: dev.kid }, null, 2),
  );
  return dev;
}

/** Reads what the running (or last) embedded resolver recorded, for the CLI. */
export async function readDevIssuer(dataDir: string): Promise<DevIssuer> {
  const info = JSON.parse(await readFile(join(dataDir, INFO_FILE), 'utf8')) as { issuer: string };
  return ensureDevIssuer(dataDir, info.issuer);
}

/** The issuer entry for the dev issuer: ES256 only, its own audience, JIT on. */
export function devIssuerConfig(dev: DevIssuer): IssuerConfig {
  return {
    issuer: dev.issuer,
    // The key file is the dev issuer's own ES256 key (jose types `kty` as optional).
    keySource: {
      kind: 'jwks-inline',
      keys: [{ ...dev.publicJwk, kty: dev.publicJwk.kty ?? 'EC' }],
    },
    audiences: [dev.audience],
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
    requiredClaims: ['exp'],
    jwks: { timeoutMs: 2000, cooldownMs: 30000, cacheMaxAgeMs: 600000, maxStaleMs: 86400000 },
    subject: {
      claim: 'sub',
      lookup: 'external',
      normalize: { trim: false, nfc: true, lowercase: false },
      maxLength: 255,
    },
    jit: {
      enabled: true,
      requiredClaims: [],
      map: { email: 'email', name: 'displayName', preferred_username: 'username', roles: 'roles' },
      defaultRoles: ['user'],
    },
    origin: 'embedded dev issuer',
  };
}

/**
 * How a dev token is signed: `dev` with the dev issuer's key (the only one it accepts), `none`
 * unsigned (`alg: none`), `other-key` with a fresh key under the dev issuer's `kid`. The last two
 * exist to try refusals (`ALGORITHM_NOT_ALLOWED`, `SIGNATURE_INVALID`).
 */
export type DevSigning = 'dev' | 'none' | 'other-key';

/**
 * Signs a dev token. `iss`, `aud`, `iat`, `exp` (`iat + ttlSeconds`) and `jti` are defaults:
 * any of them in `claims` wins, so refusal examples (an expired token, a foreign audience) can
 * be minted with the dev issuer too.
 */
export async function mintDevToken(
  dev: DevIssuer,
  claims: Record<string, unknown>,
  ttlSeconds: number,
  signWith: DevSigning = 'dev',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: dev.issuer,
    aud: dev.audience,
    iat: now,
    exp: now + ttlSeconds,
    jti: crypto.randomUUID(),
    ...claims,
  };
  if (signWith === 'none') {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
  }
  const key =
    signWith === 'dev'
      ? await importJWK(dev.privateJwk, 'ES256')
      : (await generateKeyPair('ES256')).privateKey;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: dev.kid, typ: 'JWT' })
    .sign(key);
}
