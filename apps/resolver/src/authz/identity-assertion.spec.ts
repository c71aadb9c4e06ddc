import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import type { AssertionConfig } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import type { Resolution } from '@resolver/resolution';
import { ASSERTION_ALG, IdentityAssertionSigner } from './identity-assertion';

const NOW = new Date('2026-06-01T12:00:00Z');
const T = NOW.getTime() / 1000;
const config: AssertionConfig = {
  enabled: true,
  header: 'x-identity-assertion',
  issuer: 'urn:resolver.example',
  audience: 'backend',
  ttlSeconds: 60,
};

const resolution = (expiresAt: Date | null = new Date(NOW.getTime() + 600_000)): Resolution => ({
  principal: {
    id: '6f1d3c1e-0000-4000-8000-000000000001',
    kind: 'service',
    tenantId: 'acme',
    email: 'bot@example.com',
    username: 'bot',
    displayName: 'Bot',
    roles: ['reader', 'a,b'],
    status: 'active',
    attributes: { secret: 'never-in-the-assertion' },
  },
  token: {
    issuer: 'https://idp.example/',
    subject: 'client-7',
    audience: ['api'],
    ...(expiresAt && { expiresAt }),
    jti: 'bearer-jti',
    scopes: ['read'],
  },
  source: 'CACHE',
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'assertion-spec-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A key file in the spec's directory. */
async function keyFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Verifies an assertion as a backend does: against the signer's JWKS, iss and aud. */
async function verify(signer: IdentityAssertionSigner, value: string) {
  return jwtVerify(value, createLocalJWKSet(signer.jwks()), {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [ASSERTION_ALG],
    currentDate: NOW,
  });
}

describe('IdentityAssertionSigner: the assertion', () => {
  it('is an ES256 JWT of the resolved principal that verifies against the published JWKS', async () => {
    const signer = await IdentityAssertionSigner.create(config, new FixedClock(NOW));
    const { header, value } = await signer.sign(resolution());
    expect(header).toBe('x-identity-assertion');
    const { payload, protectedHeader } = await verify(signer, value);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: signer.jwks().keys[0]?.kid, typ: 'JWT' });
    expect(payload).toEqual({
      iss: 'urn:resolver.example',
      aud: 'backend',
      sub: '6f1d3c1e-0000-4000-8000-000000000001',
      kind: 'service',
      tenant: 'acme',
      email: 'bot@example.com',
      username: 'bot',
      roles: ['reader', 'a,b'],
      src: { iss: 'https://idp.example/', sub: 'client-7' },
      iat: T,
      exp: T + 60,
      jti: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    // A fresh jti for each assertion, even for the same answer in the same second.
    const again = await verify(signer, (await signer.sign(resolution())).value);
    expect(again.payload.jti).not.toBe(payload.jti);
  });

  it.each([
    ['a bearer token that outlives the ttl', T + 600, T + 60],
    ['a bearer token that expires first', T + 10, T + 10],
    ['a bearer token already expired', T - 30, T + 1],
    ['a bearer token with no exp', undefined, T + 60],
  ])('never outlives the token it was derived from: %s', async (_, tokenExp, exp) => {
    const signer = await IdentityAssertionSigner.create(config, new FixedClock(NOW));
    const { value } = await signer.sign(
      resolution(tokenExp === undefined ? null : new Date(tokenExp * 1000)),
    );
    const { payload } = await jwtVerify(value, createLocalJWKSet(signer.jwks()), {
      currentDate: NOW,
    });
    expect(payload.exp).toBe(exp);
  });

  it('follows the clock: an assertion signed later says so, and expires after the ttl', async () => {
    const clock = new FixedClock(NOW);
    const signer = await IdentityAssertionSigner.create({ ...config, ttlSeconds: 5 }, clock);
    clock.advance(30_000);
    const { value } = await signer.sign(resolution());
    const { payload } = await jwtVerify(value, createLocalJWKSet(signer.jwks()), {
      currentDate: clock.now(),
    });
    expect([payload.iat, payload.exp]).toEqual([T + 30, T + 35]);
    await expect(
      jwtVerify(value, createLocalJWKSet(signer.jwks()), {
        currentDate: new Date((T + 36) * 1000),
      }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('is refused by a backend that checks another audience or issuer', async () => {
    const signer = await IdentityAssertionSigner.create(config, new FixedClock(NOW));
    const { value } = await signer.sign(resolution());
    const keys = createLocalJWKSet(signer.jwks());
    await expect(
      jwtVerify(value, keys, { audience: 'other', currentDate: NOW }),
    ).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    await expect(
      jwtVerify(value, keys, { issuer: 'urn:x', currentDate: NOW }),
    ).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });
});

describe('IdentityAssertionSigner: keys', () => {
  it('generates a key at boot and publishes only its public part, kid = its thumbprint', async () => {
    const signer = await IdentityAssertionSigner.create(config, new FixedClock(NOW));
    const [jwk, ...more] = signer.jwks().keys;
    expect(more).toEqual([]);
    expect(Object.keys(jwk ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwk?.kid).toBe(await calculateJwkThumbprint(jwk ?? {}));
    // Each boot its own key: another replica's assertions need its own JWKS.
    const other = await IdentityAssertionSigner.create(config, new FixedClock(NOW));
    expect(other.jwks().keys[0]?.kid).not.toBe(jwk?.kid);
    await expect(verify(other, (await signer.sign(resolution())).value)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
  });

  it('loads a PKCS#8 PEM key file: every replica with it signs under one kid', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const path = await keyFile('p256.pem', `\n${await exportPKCS8(pair.privateKey)}\n`);
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        IdentityAssertionSigner.create({ ...config, keyFile: path }, new FixedClock(NOW)),
      ),
    );
    const publicJwk = await exportJWK(pair.publicKey);
    expect(a?.jwks()).toEqual(b?.jwks());
    expect(a?.jwks().keys[0]).toEqual({
      ...publicJwk,
      kid: await calculateJwkThumbprint(publicJwk),
      alg: 'ES256',
      use: 'sig',
    });
    const { value } = await (a as IdentityAssertionSigner).sign(resolution());
    await verify(b as IdentityAssertionSigner, value);
  });

  it('loads a private JWK key file, keeping its kid and publishing none of its private or extra members', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = {
      ...(await exportJWK(pair.privateKey)),
      kid: 'assertion-2026',
      key_ops: ['sign'],
      ext: true,
    };
    const path = await keyFile('p256.jwk.json', JSON.stringify(jwk));
    const signer = await IdentityAssertionSigner.create(
      { ...config, keyFile: path },
      new FixedClock(NOW),
    );
    expect(signer.jwks().keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: jwk.x,
        y: jwk.y,
        kid: 'assertion-2026',
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    const { value } = await signer.sign(resolution());
    expect(decodeProtectedHeader(value).kid).toBe('assertion-2026');
    await verify(signer, value);
  });

  it.each([
    [
      'a P-384 PEM',
      async () => exportPKCS8((await generateKeyPair('ES384', { extractable: true })).privateKey),
    ],
    [
      'an RSA PEM',
      async () => exportPKCS8((await generateKeyPair('RS256', { extractable: true })).privateKey),
    ],
    [
      'a P-384 JWK',
      async () =>
        JSON.stringify(
          await exportJWK((await generateKeyPair('ES384', { extractable: true })).privateKey),
        ),
    ],
    [
      'an Ed25519 JWK',
      async () =>
        JSON.stringify(
          await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).privateKey),
        ),
    ],
    [
      'a P-256 public JWK (nothing to sign with)',
      async () => JSON.stringify(await exportJWK((await generateKeyPair('ES256')).publicKey)),
    ],
    ['broken JSON', () => Promise.resolve('{"kty": "EC",')],
    ['no key at all', () => Promise.resolve('hello')],
  ])('refuses %s at boot, naming the setting', async (name, text) => {
    const path = await keyFile(`bad-${name.replace(/\W+/g, '-')}`, await text());
    await expect(
      IdentityAssertionSigner.create({ ...config, keyFile: path }, new FixedClock(NOW)),
    ).rejects.toThrow(/^authz\.assertion\.keyFile: must be an EC P-256 private key \(ES256\)/);
  });
});
