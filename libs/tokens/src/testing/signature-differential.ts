import {
  constants,
  createHmac,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import * as jose6 from 'jose';
import type { JWK } from 'jose';
import { CompactSign, compactVerify, importJWK } from 'jose-v5';
import {
  ASYMMETRIC_ALGORITHMS,
  buildConfig,
  HMAC_ALGORITHMS,
  type IssuerConfig,
} from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import { isResolutionError, type ReasonCode } from '@resolver/reasons';
import { IssuerVerifier } from '../issuer-verifier';
import { reasonForJoseError } from '../jose-errors';
import type { KeySource } from '../key-source';

/**
 * The verifiers the differential specs hold to one answer: jose 5.10's `compactVerify` on the key
 * jose imports (exactly what the signature step ran before it moved to `node:crypto`; kept as
 * the dev dependency `jose-v5` for this), the resolver's own step, and jose 6's `compactVerify`
 * (the current major, WebCrypto underneath) where it implements the algorithm. Each says
 * `valid` or the reason code it would refuse with.
 */
export type Verdict = 'valid' | ReasonCode;

const SECRET = 'differential-hmac-secret-of-at-least-32-bytes';
const config = buildConfig(
  {
    database: { url: 'postgres://unused/unused' },
    logging: { level: 'silent' },
    issuers: [
      {
        issuer: 'https://asymmetric.differential.test',
        jwksUri: 'https://asymmetric.differential.test/jwks',
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        audiences: ['api://differential'],
      },
      {
        issuer: 'https://hmac.differential.test',
        hmacSecretEnv: 'DIFFERENTIAL_SECRET',
        algorithms: [...HMAC_ALGORITHMS],
        audiences: ['api://differential'],
      },
    ],
  },
  { DIFFERENTIAL_SECRET: SECRET },
  { source: 'unit', baseDir: '.' },
);
// The candidate keys are handed to the step directly; no key source is ever asked.
const noKeys: KeySource = {
  keysFor: () => Promise.reject(new Error('not used')),
  heldKeys: () => undefined,
  state: () => ({ kind: 'jwks', status: 'ok', keyIds: [], degraded: false }),
};
const clock = new FixedClock(new Date('2026-12-01T12:00:00Z'));
const verifiers = config.issuers.map((issuer) => new IssuerVerifier(issuer, noKeys, clock));

/** The configured issuer a token of this header `alg` belongs to (HS* only to the HMAC one). */
export function verifierFor(alg: string): IssuerVerifier {
  return verifiers[alg.startsWith('HS') ? 1 : 0] as IssuerVerifier;
}

export function headerOf(token: string): Record<string, unknown> {
  const segment = token.slice(0, token.indexOf('.'));
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** What the signature step decided before: import the key as jose 5 did, then `compactVerify`. */
export async function joseVerdict(token: string, jwk: JWK): Promise<Verdict> {
  const alg = headerOf(token).alg as string;
  const issuer: IssuerConfig = verifierFor(alg).config;
  try {
    // jose 5 types `kty` as required, jose 6 as optional; the JWK is the same either way.
    const key = await importJWK({ ...jwk, alg } as Parameters<typeof importJWK>[0], alg);
    await compactVerify(token, key, { algorithms: [...issuer.algorithms] });
    return 'valid';
  } catch (error) {
    return reasonForJoseError(error);
  }
}

/** jose 6's answer (it has no Ed448: its EdDSA is Ed25519 only). */
export async function jose6Verdict(token: string, jwk: JWK): Promise<Verdict> {
  const alg = headerOf(token).alg as string;
  try {
    const key = await jose6.importJWK({ ...jwk, alg }, alg);
    await jose6.compactVerify(token, key, { algorithms: [...verifierFor(alg).config.algorithms] });
    return 'valid';
  } catch (error) {
    return reasonForJoseError(error);
  }
}

/** What the signature step decides now. */
export function nodeVerdict(token: string, jwk: JWK): Verdict {
  const header = headerOf(token);
  const segments = token.split('.');
  try {
    verifierFor(header.alg as string).checkSignature(
      token,
      { header, payload: {}, sizeBytes: token.length, signatureLength: segments[2]?.length ?? 0 },
      [jwk],
    );
    return 'valid';
  } catch (error) {
    if (isResolutionError(error)) return error.reason;
    throw error;
  }
}

/** Both verdicts, for `expect(...).toEqual` to show side by side when they differ. */
export async function bothVerdicts(
  token: string,
  jwk: JWK,
): Promise<{ jose: Verdict; node: Verdict }> {
  return { jose: await joseVerdict(token, jwk), node: nodeVerdict(token, jwk) };
}

/** One algorithm with a key pair (or secret) and a valid token signed by jose. */
export interface AlgorithmCase {
  readonly label: string;
  readonly alg: string;
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject;
  /** `header.payload` of {@link token}. */
  readonly signingInput: string;
  readonly token: string;
  readonly signature: Buffer;
}

export interface TestKeys {
  readonly rsa: KeyObject;
  readonly rsa1024: KeyObject;
  readonly p256: KeyObject;
  readonly p384: KeyObject;
  readonly p521: KeyObject;
  readonly secp256k1: KeyObject;
  readonly ed25519: KeyObject;
  readonly ed448: KeyObject;
  readonly x25519: KeyObject;
  readonly hmac: KeyObject;
}

export function generateTestKeys(): TestKeys {
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).privateKey;
  return {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
    p256: ec('P-256'),
    p384: ec('P-384'),
    p521: ec('P-521'),
    secp256k1: ec('secp256k1'),
    ed25519: generateKeyPairSync('ed25519').privateKey,
    ed448: generateKeyPairSync('ed448').privateKey,
    x25519: generateKeyPairSync('x25519').privateKey,
    hmac: createSecretKey(randomBytes(64)),
  };
}

/** The public half as a JWK (the HMAC secret as an `oct` JWK). */
export function publicJwk(key: KeyObject): JWK {
  if (key.type === 'secret') return { kty: 'oct', k: key.export().toString('base64url') };
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    ...members
  } = key.export({
    format: 'jwk',
  });
  return members;
}

/** The key each algorithm is tested with. */
export function keyFor(keys: TestKeys, alg: string, label = alg): KeyObject {
  if (label === 'EdDSA (Ed448)') return keys.ed448;
  if (/^(RS|PS)/.test(alg)) return keys.rsa;
  if (alg === 'ES256') return keys.p256;
  if (alg === 'ES384') return keys.p384;
  if (alg === 'ES512') return keys.p521;
  if (alg === 'EdDSA') return keys.ed25519;
  return keys.hmac;
}

export const CASE_LABELS: ReadonlyArray<readonly [label: string, alg: string]> = [
  ...[...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS].map(
    (alg) => [alg === 'EdDSA' ? 'EdDSA (Ed25519)' : alg, alg] as const,
  ),
  ['EdDSA (Ed448)', 'EdDSA'],
];

const PAYLOAD = JSON.stringify({ iss: 'https://differential.test', sub: 'alice', n: 1 });

/** A token signed by jose (independently of the code under test). */
export async function signWithJose(
  alg: string,
  key: KeyObject,
  payload = PAYLOAD,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ ...header, alg })
    .sign(key);
}

export async function buildCase(
  keys: TestKeys,
  label: string,
  alg: string,
): Promise<AlgorithmCase> {
  const privateKey = keyFor(keys, alg, label);
  const token = await signWithJose(alg, privateKey);
  const dot = token.lastIndexOf('.');
  return {
    label,
    alg,
    publicJwk: publicJwk(privateKey),
    privateKey,
    signingInput: token.slice(0, dot),
    token,
    signature: Buffer.from(token.slice(dot + 1), 'base64url'),
  };
}

/** `signingInput` with these signature bytes. */
export function withSignature(signingInput: string, signature: Buffer): string {
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** A header of another algorithm over the same payload: `header.payload` of it. */
export function signingInputFor(alg: string, token: string): string {
  const header = Buffer.from(JSON.stringify({ alg })).toString('base64url');
  return `${header}.${token.split('.')[1]}`;
}

/**
 * Raw signing with `node:crypto`, for shapes jose will not produce (DER ECDSA, other PSS salt
 * lengths, one algorithm's signature under another's header). The parameters are written out
 * here from RFC 7518, not taken from the code under test.
 */
export function signRaw(
  alg: string,
  key: KeyObject,
  input: string,
  options: { dsaEncoding?: 'der' | 'ieee-p1363'; saltLength?: number } = {},
): Buffer {
  const data = Buffer.from(input);
  const digest = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) return createHmac(digest, key.export()).update(data).digest();
  if (alg === 'EdDSA') return sign(null, data, key);
  if (alg.startsWith('RS')) return sign(digest, data, key);
  if (alg.startsWith('PS')) {
    return sign(digest, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: options.saltLength ?? Number(alg.slice(2)) / 8,
    });
  }
  return sign(digest, data, { key, dsaEncoding: options.dsaEncoding ?? 'ieee-p1363' });
}
