import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CompactEncrypt, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { IssuerConfig } from '@resolver/config';
import { pae, toPaserk } from './formats/paseto';
import { PASETO_V4_PUBLIC } from './formats/token-format';

/** The embedded development issuer: a key pair under the data dir, tokens minted by the CLI. */
export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  /** The key its JWE tokens are encrypted to (ECDH-ES+A256KW, P-256): PKCS#8 PEM and kid. */
  readonly encryption: { readonly kid: string; readonly privatePem: string };
  /** Its PASETO v4.public key (Ed25519): PKCS#8 PEM and kid. */
  readonly paseto: { readonly kid: string; readonly privatePem: string };
}

/** The formats the dev issuer mints: a signed JWT, an encrypted one, a PASETO v4.public. */
export type DevTokenFormat = 'jws' | 'jwe' | 'paseto';
export const DEV_TOKEN_FORMATS: readonly DevTokenFormat[] = ['jws', 'jwe', 'paseto'];

const KEY_FILE = 'dev-issuer-key.json';
const ENCRYPTION_KEY_FILE = 'dev-issuer-encryption-key.json';
const PASETO_KEY_FILE = 'dev-issuer-paseto-key.json';
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
    // Made on first use too: a data dir from before these formats gets them on its next start.
    encryption: await devKey(
      join(dataDir, ENCRYPTION_KEY_FILE),
      'dev-enc',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    ),
    paseto: await devKey(
      join(dataDir, PASETO_KEY_FILE),
      'dev-paseto',
      () => generateKeyPairSync('ed25519').privateKey,
    ),
  };
  await writeFile(
    join(dataDir, INFO_FILE),
    JSON.stringify({ issuer, audience: DEV_AUDIENCE, kid: dev.kid }, null, 2),
  );
  return dev;
}

/** A dev key pair kept under the data dir (mode 0600), created the first time. */
async function devKey(
  path: string,
  prefix: string,
  generate: () => ReturnType<typeof createPrivateKey>,
): Promise<{ kid: string; privatePem: string }> {
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as { kid: string; privatePem: string };
    createPrivateKey(saved.privatePem);
    return saved;
  } catch {
    const key = {
      kid: `${prefix}-${Date.now().toString(36)}`,
      privatePem: generate().export({ format: 'pem', type: 'pkcs8' }) as string,
    };
    await writeFile(path, JSON.stringify(key), { mode: 0o600 });
    return key;
  }
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
    // Its encrypted JWTs and PASETO tokens resolve out of the box (docs/token-formats.md).
    decryption: {
      keys: [
        {
          kid: dev.encryption.kid,
          material: dev.encryption.privatePem,
          field: 'embedded dev issuer.decryption.keys[0]',
        },
      ],
      keyManagementAlgorithms: ['ECDH-ES+A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
      compression: { allowed: false, maxDecompressedBytes: 65_536 },
      allowUnsignedPayload: false,
    },
    paseto: {
      keys: [
        {
          kid: dev.paseto.kid,
          paserk: toPaserk(createPublicKey(dev.paseto.privatePem)),
        },
      ],
      implicitAssertion: '',
      maxFooterBytes: 1024,
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

/**
 * A dev token in another format: `jwe` encrypts the signed JWT `jws` to the dev issuer's
 * encryption key (ECDH-ES+A256KW, A256GCM, `cty: JWT`: a nested JWT); `paseto` signs the same
 * claims as a v4.public token (times as RFC 3339, footer `{"kid": …}`), with the dev issuer's
 * PASETO key, or a fresh one for `other-key`. A PASETO token is never unsigned (`none`).
 */
export async function asDevFormat(
  dev: DevIssuer,
  jws: string,
  format: DevTokenFormat,
  signWith: DevSigning = 'dev',
): Promise<string> {
  if (format === 'jws') return jws;
  if (format === 'jwe') {
    return new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({
        alg: 'ECDH-ES+A256KW',
        enc: 'A256GCM',
        kid: dev.encryption.kid,
        cty: 'JWT',
      })
      .encrypt(createPublicKey(dev.encryption.privatePem));
  }
  if (signWith === 'none') throw new Error('a PASETO v4.public token is always signed');
  const claims = JSON.parse(
    Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as Record<string, unknown>;
  for (const name of ['exp', 'nbf', 'iat']) {
    const value = claims[name];
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 253_402_300_800)
      claims[name] = new Date(value * 1000).toISOString();
  }
  const message = Buffer.from(JSON.stringify(claims));
  const footer = Buffer.from(JSON.stringify({ kid: dev.paseto.kid }));
  const key =
    signWith === 'dev'
      ? createPrivateKey(dev.paseto.privatePem)
      : generateKeyPairSync('ed25519').privateKey;
  const signature = sign(
    null,
    pae(Buffer.from(PASETO_V4_PUBLIC), message, footer, Buffer.alloc(0)),
    key,
  );
  return `${PASETO_V4_PUBLIC}${Buffer.concat([message, signature]).toString('base64url')}.${footer.toString('base64url')}`;
}
