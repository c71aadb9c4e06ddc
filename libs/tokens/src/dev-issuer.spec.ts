import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import { asDevFormat, devIssuerConfig, ensureDevIssuer, mintDevToken } from './dev-issuer';
import { classifyTokenFormat } from './formats/token-format';
import { parsePasetoV4Public, pasetoClaimsAsJwt } from './formats/paseto';
import { TokenVerifier } from './token-verifier';

/**
 * The embedded dev issuer's tokens in every format: minted as `npm run token -- --format` mints
 * them, and read back by the same verifier the resolver builds from the dev issuer's config.
 */
describe('dev issuer: JWS, JWE and PASETO tokens that its own config accepts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dev-issuer-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps its keys across starts and mints each format; the verifier decrypts and verifies them', async () => {
    const dev = await ensureDevIssuer(dir, 'http://127.0.0.1:8080/dev');
    const again = await ensureDevIssuer(dir, 'http://127.0.0.1:8080/dev');
    expect(again.encryption).toEqual(dev.encryption);
    expect(again.paseto).toEqual(dev.paseto);
    const config = devIssuerConfig(dev);
    const clock = { now: () => new Date() } as unknown as Clock;
    const verifier = await TokenVerifier.create(
      { issuers: [config], limits: { maxTokenBytes: 8192 } },
      clock,
    );
    const jws = await mintDevToken(dev, { sub: 'alice' }, 600);
    const jwe = await asDevFormat(dev, jws, 'jwe');
    expect(classifyTokenFormat(jwe)).toBe('jwe');
    const route = verifier.jwe.route(jwe);
    expect(route).toMatchObject({
      issuer: dev.issuer,
      kid: dev.encryption.kid,
      alg: 'ECDH-ES+A256KW',
    });
    expect(await verifier.jwe.decrypt(jwe, route)).toEqual({ kind: 'jws', token: jws });
    const paseto = await asDevFormat(dev, jws, 'paseto');
    expect(classifyTokenFormat(paseto)).toBe('paseto');
    const parsed = parsePasetoV4Public(paseto);
    expect(parsed.kid).toBe(dev.paseto.kid);
    const issuer = verifier.issuer(dev.issuer);
    const keys = issuer?.paseto?.candidates(parsed, dev.issuer) ?? [];
    expect(() => issuer?.paseto?.checkSignature(parsed, keys)).not.toThrow();
    expect(pasetoClaimsAsJwt(parsed.claims).exp).toEqual(expect.any(Number));
    // other-key: a PASETO token the dev issuer never signed.
    const forged = parsePasetoV4Public(await asDevFormat(dev, jws, 'paseto', 'other-key'));
    let reason = 'OK';
    try {
      issuer?.paseto?.checkSignature(forged, keys);
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      reason = error.reason;
    }
    expect(reason).toBe('SIGNATURE_INVALID');
    await expect(asDevFormat(dev, jws, 'paseto', 'none')).rejects.toThrow(/always signed/);
  });
});
