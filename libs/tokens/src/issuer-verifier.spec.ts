import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { isResolutionError } from '@resolver/reasons';
import { FixedClock } from '@resolver/observability';
import type { DecodedToken } from './compact-token';
import { IssuerVerifier } from './issuer-verifier';
import type { KeySource } from './key-source';
import {
  type AlgorithmCase,
  buildCase,
  generateTestKeys,
  headerOf,
  publicJwk,
  signRaw,
  type TestKeys,
  verifierFor,
  withSignature,
} from './testing/signature-differential';

/** The signature step's own rules: its key cache and how it walks several candidate keys. */

// Counts the KeyObjects made from JWKs.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, createPublicKey: jest.fn(actual.createPublicKey) };
});
const made = jest.mocked(createPublicKey);

let keys: TestKeys;
let rs256: AlgorithmCase;
let es256: AlgorithmCase;

beforeAll(async () => {
  keys = generateTestKeys();
  rs256 = await buildCase(keys, 'RS256', 'RS256');
  es256 = await buildCase(keys, 'ES256', 'ES256');
});

beforeEach(() => made.mockClear());

const decoded = (token: string): DecodedToken => ({
  header: headerOf(token),
  payload: {},
  sizeBytes: token.length,
  signatureLength: token.length - token.lastIndexOf('.') - 1,
});

async function outcome(token: string, candidates: readonly JWK[]): Promise<string> {
  try {
    verifierFor(headerOf(token).alg as string).checkSignature(token, decoded(token), candidates);
    return 'valid';
  } catch (error) {
    if (isResolutionError(error)) return error.reason;
    throw error;
  }
}

describe('the KeyObject cache', () => {
  it('makes one KeyObject per key, however many tokens it verifies', async () => {
    const jwk = { ...rs256.publicJwk };
    for (let i = 0; i < 5; i++) expect(await outcome(rs256.token, [jwk])).toBe('valid');
    expect(made).toHaveBeenCalledTimes(1);
  });

  it('makes a new one for a rotated key set (new JWK objects), never reusing the old entry', async () => {
    const before = { ...es256.publicJwk };
    expect(await outcome(es256.token, [before])).toBe('valid');
    // The IdP rotated: the same token is now checked against another key under the same kid.
    const rotated = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    expect(await outcome(es256.token, [rotated])).toBe('SIGNATURE_INVALID');
    expect(made).toHaveBeenCalledTimes(2);
  });

  it('remembers a JWK that is no key, without trying to import it again', async () => {
    const broken: JWK = { kty: 'EC', crv: 'P-256', x: 'AQ', y: 'Ag' };
    for (let i = 0; i < 3; i++)
      expect(await outcome(es256.token, [broken])).toBe('SIGNING_KEY_NOT_FOUND');
    expect(made).toHaveBeenCalledTimes(1);
  });
});

describe('several candidate keys', () => {
  it('skips keys that cannot verify the algorithm and verifies with the next one', async () => {
    const short = publicJwk(keys.rsa1024);
    const broken: JWK = { kty: 'RSA', e: 'AQAB' };
    const ec = publicJwk(keys.p256);
    expect(await outcome(rs256.token, [short, broken, ec, rs256.publicJwk])).toBe('valid');
  });

  it('tries every usable key: a mismatch under one key does not stop the next', async () => {
    const other = publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    expect(await outcome(rs256.token, [other, rs256.publicJwk])).toBe('valid');
  });

  it('says SIGNATURE_INVALID when a usable key was tried, whatever else was skipped', async () => {
    const other = publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    expect(await outcome(rs256.token, [publicJwk(keys.rsa1024), other])).toBe('SIGNATURE_INVALID');
    expect(await outcome(rs256.token, [other, publicJwk(keys.rsa1024)])).toBe('SIGNATURE_INVALID');
  });

  it('says SIGNING_KEY_NOT_FOUND when no candidate can verify the algorithm at all', async () => {
    expect(await outcome(rs256.token, [publicJwk(keys.rsa1024), publicJwk(keys.p256)])).toBe(
      'SIGNING_KEY_NOT_FOUND',
    );
    expect(await outcome(rs256.token, [])).toBe('SIGNING_KEY_NOT_FOUND');
  });
});

describe('the step on its own', () => {
  it('refuses an algorithm the issuer does not allow, even when the key would verify it', () => {
    // The HMAC issuer allows HS* only; an RS256 token signed by a key it is handed is refused.
    const input = rs256.signingInput;
    const token = withSignature(input, signRaw('RS256', keys.rsa, input));
    const hmacIssuer = verifierFor('HS256');
    expect(() => hmacIssuer.checkSignature(token, decoded(token), [rs256.publicJwk])).toThrow(
      expect.objectContaining({ reason: 'ALGORITHM_NOT_ALLOWED' }),
    );
  });

  it('refuses "none" and unknown algorithms without touching a key', async () => {
    for (const alg of ['none', 'RS1', 'ES256K', 'Ed25519', 'constructor', '__proto__']) {
      const header = Buffer.from(JSON.stringify({ alg })).toString('base64url');
      const token = `${header}.${rs256.signingInput.split('.')[1] as string}.${rs256.token.split('.')[2] as string}`;
      expect(await outcome(token, [rs256.publicJwk])).toBe('ALGORITHM_NOT_ALLOWED');
    }
    expect(made).not.toHaveBeenCalled();
  });
});

describe('the key step', () => {
  const issuerOf = (source: KeySource) =>
    new IssuerVerifier(verifierFor('RS256').config, source, new FixedClock(new Date()));
  const state = () => ({
    kind: 'jwks' as const,
    status: 'ok' as const,
    keyIds: [],
    degraded: false,
  });

  it('answers held keys at once, with no promise, and asks the source only when it holds none', async () => {
    const token = rs256.token;
    const asked: string[] = [];
    let held: readonly JWK[] | undefined = [rs256.publicJwk];
    const source: KeySource = {
      heldKeys: () => held,
      keysFor: (kid) => {
        asked.push(String(kid));
        return Promise.resolve([rs256.publicJwk]);
      },
      state,
    };
    const verifier = issuerOf(source);
    const first = verifier.candidateKeys(decoded(token));
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual([rs256.publicJwk]);
    expect(asked).toEqual([]);
    held = undefined;
    const second = verifier.candidateKeys(decoded(token));
    expect(second).toBeInstanceOf(Promise);
    expect(await second).toEqual([rs256.publicJwk]);
    expect(asked).toHaveLength(1);
  });

  it('held or fetched, a key set with no match is SIGNING_KEY_NOT_FOUND (thrown, or rejected)', async () => {
    const other = es256.publicJwk;
    const holding = issuerOf({ heldKeys: () => [other], keysFor: async () => [other], state });
    expect(() => holding.candidateKeys(decoded(rs256.token))).toThrow(
      expect.objectContaining({ reason: 'SIGNING_KEY_NOT_FOUND' }),
    );
    const fetching = issuerOf({ heldKeys: () => undefined, keysFor: async () => [other], state });
    await expect(fetching.candidateKeys(decoded(rs256.token))).rejects.toMatchObject({
      reason: 'SIGNING_KEY_NOT_FOUND',
    });
  });
});
