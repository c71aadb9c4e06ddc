import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CompactEncrypt, type CompactJWEHeaderParameters } from 'jose';
import type { DecryptionConfig, IssuerConfig } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import { JweDecryptor } from './jwe';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;
const NESTED = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2EudGVzdCJ9.c2ln';

function issuer(iss: string, decryption: Partial<DecryptionConfig>): IssuerConfig {
  return {
    issuer: iss,
    origin: 'issuers[0]',
    decryption: {
      keys: [],
      keyManagementAlgorithms: ['RSA-OAEP-256', 'ECDH-ES+A256KW', 'ECDH-ES+A128KW'],
      contentEncryptionAlgorithms: ['A256GCM', 'A128GCM'],
      compression: { allowed: false, maxDecompressedBytes: 1024 },
      allowUnsignedPayload: false,
      ...decryption,
    },
  } as unknown as IssuerConfig;
}

const decryptor = JweDecryptor.create([
  issuer('https://a.test', {
    keys: [
      { kid: 'a-rsa', material: pem(rsa.privateKey), field: 'issuers[0].decryption.keys[0]' },
      { kid: 'a-ec', material: pem(ec.privateKey), field: 'issuers[0].decryption.keys[1]' },
    ],
  }),
  issuer('https://b.test', {
    keys: [{ kid: 'b-ec', material: pem(ec.privateKey), field: 'issuers[1].decryption.keys[0]' }],
    allowUnsignedPayload: true,
    compression: { allowed: true, maxDecompressedBytes: 1024 },
    keyManagementAlgorithms: ['ECDH-ES+A256KW', 'dir'],
  }),
]);

async function encrypt(
  plaintext: string,
  header: CompactJWEHeaderParameters,
  key: KeyObject | Uint8Array,
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader(header)
    .encrypt(key);
}

async function outcome(token: string) {
  try {
    const route = decryptor.route(token);
    return { route, payload: await decryptor.decrypt(token, route) };
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return { reason: error.reason, message: error.message };
  }
}

describe('JWE: routing by kid, allow-lists, decryption', () => {
  it.each([
    ['RSA-OAEP-256', 'A256GCM', 'a-rsa', rsa.publicKey],
    ['RSA-OAEP-256', 'A128GCM', 'a-rsa', rsa.publicKey],
    ['ECDH-ES+A256KW', 'A256GCM', 'a-ec', ec.publicKey],
    ['ECDH-ES+A128KW', 'A128GCM', 'a-ec', ec.publicKey],
  ] as const)(
    '%s / %s decrypts to the nested JWS, routed to its issuer',
    async (alg, enc, kid, key) => {
      const got = await outcome(await encrypt(NESTED, { alg, enc, kid, cty: 'JWT' }, key));
      expect(got).toMatchObject({
        route: { issuer: 'https://a.test', kid, alg, enc },
        payload: { kind: 'jws', token: NESTED },
      });
    },
  );

  it.each([
    ['no kid', { alg: 'RSA-OAEP-256', enc: 'A256GCM' }, 'TOKEN_MALFORMED'],
    ['an unknown kid', { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'z' }, 'DECRYPTION_FAILED'],
    ['RSA1_5 not listed', { alg: 'RSA1_5', enc: 'A256GCM', kid: 'a-rsa' }, 'ALGORITHM_NOT_ALLOWED'],
    ['dir not listed', { alg: 'dir', enc: 'A256GCM', kid: 'a-rsa' }, 'ALGORITHM_NOT_ALLOWED'],
    [
      'an enc not listed',
      { alg: 'RSA-OAEP-256', enc: 'A192GCM', kid: 'a-rsa' },
      'ALGORITHM_NOT_ALLOWED',
    ],
    [
      'zip not allowed',
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa', zip: 'DEF' },
      'TOKEN_MALFORMED',
    ],
    [
      'crit',
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa', crit: ['x'], x: 1 },
      'TOKEN_MALFORMED',
    ],
    [
      'a replicated iss of another issuer',
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa', iss: 'https://b.test' },
      'CLAIM_INVALID',
    ],
  ])('%s: refused before any key is used', (_what, header, reason) => {
    const token = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.a.b.c.d`;
    expect(() => decryptor.route(token)).toThrow(expect.objectContaining({ reason }) as Error);
  });

  it('key confusion: a token encrypted to another key under a configured kid does not decrypt', async () => {
    const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const got = await outcome(
      await encrypt(
        NESTED,
        { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa', cty: 'JWT' },
        signing.publicKey,
      ),
    );
    expect(got).toMatchObject({ reason: 'DECRYPTION_FAILED' });
  });

  it('an unsigned payload is refused unless the issuer allows it', async () => {
    const claims = JSON.stringify({ iss: 'https://a.test', sub: 'x' });
    const refused = await outcome(
      await encrypt(claims, { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa' }, rsa.publicKey),
    );
    expect(refused).toMatchObject({ reason: 'ALGORITHM_NOT_ALLOWED' });
    const allowed = await outcome(
      await encrypt(claims, { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-ec' }, ec.publicKey),
    );
    expect(allowed).toMatchObject({ payload: { kind: 'claims', claims: { sub: 'x' } } });
  });

  it('a nested token that is no JWS (cty: JWT but a JWE inside) is refused', async () => {
    const got = await outcome(
      await encrypt(
        'a.b.c.d.e',
        { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa', cty: 'JWT' },
        rsa.publicKey,
      ),
    );
    expect(got).toMatchObject({ reason: 'TOKEN_MALFORMED' });
  });

  it('a compression bomb stops at the bound (TOKEN_TOO_LARGE); a small compressed token passes', async () => {
    const bomb = await encrypt(
      JSON.stringify({ sub: 'x', pad: 'A'.repeat(200_000) }),
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-ec', zip: 'DEF' },
      ec.publicKey,
    );
    expect(bomb.length).toBeLessThan(2000);
    expect(await outcome(bomb)).toMatchObject({ reason: 'TOKEN_TOO_LARGE' });
    const small = await encrypt(
      JSON.stringify({ sub: 'x' }),
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-ec', zip: 'DEF' },
      ec.publicKey,
    );
    expect(await outcome(small)).toMatchObject({ payload: { kind: 'claims' } });
  });

  it('five segments of garbage under a good header: refused, never a crash', async () => {
    const header = Buffer.from(
      JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-rsa' }),
    ).toString('base64url');
    for (const rest of ['a.b.c.d', '...', 'AAAA.AAAA.AAAA.AAAA', '!.!.!.!']) {
      const got = await outcome(`${header}.${rest}`);
      expect(got).toMatchObject({
        reason: expect.stringMatching(/^(TOKEN_MALFORMED|DECRYPTION_FAILED)$/),
      });
    }
  });

  it('a decryption key that is no private key stops the boot, naming its field', () => {
    expect(() =>
      JweDecryptor.create([
        issuer('https://c.test', {
          keys: [
            {
              kid: 'c',
              material: rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string,
              field: 'issuers[2].decryption.keys[0]',
            },
          ],
        }),
      ]),
    ).toThrow(/issuers\[2\]\.decryption\.keys\[0\]: not a private key/);
  });

  it('with no decryption keys anywhere, a JWE is refused as before (TOKEN_MALFORMED)', () => {
    const none = JweDecryptor.create([]);
    expect(() => none.route('e30.a.b.c.d')).toThrow(
      expect.objectContaining({ reason: 'TOKEN_MALFORMED' }) as Error,
    );
  });
});
