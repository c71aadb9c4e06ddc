import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { isResolutionError } from '@resolver/reasons';
import type { IssuerConfig } from '@resolver/config';
import vectors from './fixtures/paseto-v4-vectors.json';
import {
  pae,
  paserkPublicKey,
  parsePasetoV4Public,
  pasetoClaimsAsJwt,
  PasetoVerifier,
  rfc3339Seconds,
  toPaserk,
} from './paseto';
import { classifyTokenFormat } from './token-format';

const publicKey = createPublicKey(vectors.keys['public-key-pem']);
const secretKey = createPrivateKey(vectors.keys['secret-key-pem']);

function issuerWith(paseto: Partial<NonNullable<IssuerConfig['paseto']>>): IssuerConfig {
  return {
    issuer: 'https://paseto.test',
    origin: 'issuers[0]',
    paseto: { keys: [], implicitAssertion: '', maxFooterBytes: 1024, ...paseto },
  } as unknown as IssuerConfig;
}

/** A v4.public token signed here (the vectors' key unless another is given). */
function mint(
  claims: unknown,
  footer = '',
  implicit = '',
  key = secretKey,
  header = 'v4.public.',
): string {
  const m = Buffer.from(typeof claims === 'string' ? claims : JSON.stringify(claims));
  const f = Buffer.from(footer);
  const sig = sign(null, pae(Buffer.from(header), m, f, Buffer.from(implicit)), key);
  const body = Buffer.concat([m, sig]).toString('base64url');
  return `${header}${body}${f.length ? `.${f.toString('base64url')}` : ''}`;
}

function reasonOf(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return error.reason;
  }
}

async function verifierFor(implicitAssertion: string, kid?: string) {
  const v = await PasetoVerifier.create(
    issuerWith({
      keys: [{ paserk: toPaserk(publicKey), ...(kid ? { kid } : {}) }],
      implicitAssertion,
    }),
  );
  if (!v) throw new Error('no verifier');
  return v;
}

describe('PASETO v4.public against the official test vectors', () => {
  it('the vectors name their source', () => {
    expect(vectors.source).toMatch(/^https:\/\/github\.com\/paseto-standard\/test-vectors\//);
  });

  it('the PASERK of the vectors’ public key is its 32 raw bytes', () => {
    const raw = Buffer.from(vectors.keys['public-key'], 'hex').toString('base64url');
    expect(toPaserk(publicKey)).toBe(`k4.public.${raw}`);
    expect(paserkPublicKey(`k4.public.${raw}`).equals(publicKey)).toBe(true);
  });

  for (const vector of vectors.tests) {
    it(`${vector.name}: ${vector['expect-fail'] ? 'refused' : 'verifies, with the published payload'}`, async () => {
      const verify = async () => {
        // The format step runs first: v4.local and v3 never reach the parser.
        classifyTokenFormat(vector.token);
        const token = parsePasetoV4Public(vector.token);
        const kid = vector.footer.startsWith('{')
          ? (JSON.parse(vector.footer) as { kid?: string }).kid
          : undefined;
        const v = await verifierFor(vector['implicit-assertion'], kid);
        v.checkSignature(token, v.candidates(token, 'https://paseto.test'));
        return token;
      };
      if (vector['expect-fail']) {
        await expect(verify()).rejects.toMatchObject({
          reason: expect.stringMatching(/^(TOKEN_MALFORMED|SIGNATURE_INVALID)$/),
        });
        return;
      }
      const token = await verify();
      expect(token.message.toString()).toBe(vector.payload);
      expect(token.footer.toString()).toBe(vector.footer);
      // Signing the payload again with the vectors' secret key gives the published token
      // (Ed25519 is deterministic): the PAE here is the specification's.
      expect(mint(vector.payload as string, vector.footer, vector['implicit-assertion'])).toBe(
        vector.token,
      );
    });
  }
});

describe('PASETO attacks', () => {
  const claims = { iss: 'https://paseto.test', sub: 'alice', exp: '2030-01-01T00:00:00Z' };

  it('a tampered footer, another implicit assertion, another key: SIGNATURE_INVALID', async () => {
    const v = await verifierFor('tenant-a', 'a');
    const good = mint(claims, '{"kid":"a"}', 'tenant-a');
    const check = (raw: string) =>
      reasonOf(() => {
        const t = parsePasetoV4Public(raw);
        v.checkSignature(t, v.candidates(t, 'x'));
      });
    expect(check(good)).toBe('OK');
    const [h1, h2, body] = good.split('.');
    const tampered = Buffer.from('{"kid":"a","x":1}').toString('base64url');
    expect(check(`${h1}.${h2}.${body}.${tampered}`)).toBe('SIGNATURE_INVALID');
    expect(check(mint(claims, '{"kid":"a"}', 'tenant-b'))).toBe('SIGNATURE_INVALID');
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(check(mint(claims, '{"kid":"a"}', 'tenant-a', other))).toBe('SIGNATURE_INVALID');
  });

  it('the footer kid selects the key: an unknown kid is SIGNING_KEY_NOT_FOUND', async () => {
    const v = await verifierFor('', 'k1');
    const t = parsePasetoV4Public(mint(claims, '{"kid":"k2"}'));
    expect(reasonOf(() => v.candidates(t, 'x'))).toBe('SIGNING_KEY_NOT_FOUND');
    expect(v.candidates(parsePasetoV4Public(mint(claims, '{"kid":"k1"}')), 'x')).toHaveLength(1);
  });

  it.each([
    ['a footer that is not JSON', () => mint(claims, 'not json')],
    ['a footer kid that is not a string', () => mint(claims, '{"kid":7}')],
    ['a footer with duplicate names', () => mint(claims, '{"kid":"a","kid":"b"}')],
    ['claims that are not an object', () => mint('[1,2]')],
    ['claims with a BOM', () => mint('\ufeff{"sub":"a"}')],
    ['no signature', () => 'v4.public.' + Buffer.from('{"sub":"a"}').toString('base64url')],
    ['three dots after the header', () => `${mint(claims, '{"kid":"a"}')}.eA`],
    ['non-canonical base64url', () => `${mint(claims)}B`],
  ])('%s is TOKEN_MALFORMED', (_what, make) => {
    expect(reasonOf(() => parsePasetoV4Public(make()))).toBe('TOKEN_MALFORMED');
  });

  it('a footer over the issuer’s bound is refused before any key is looked at', async () => {
    const v = await PasetoVerifier.create(
      issuerWith({ keys: [{ paserk: toPaserk(publicKey) }], maxFooterBytes: 16 }),
    );
    const t = parsePasetoV4Public(mint(claims, JSON.stringify({ kid: 'x'.repeat(40) })));
    expect(reasonOf(() => v?.candidates(t, 'x'))).toBe('TOKEN_MALFORMED');
  });

  it('claims are own data: __proto__ is a plain member, never a prototype', () => {
    const t = parsePasetoV4Public(mint('{"__proto__":{"tid":"evil"},"sub":"a"}'));
    expect(Object.getPrototypeOf(t.claims)).toBeNull();
    expect((t.claims as Record<string, unknown>).tid).toBeUndefined();
  });
});

describe('PASETO times (RFC 3339) in the JWT shape', () => {
  it.each([
    ['2022-01-01T00:00:00+00:00', 1640995200],
    ['2022-01-01T00:00:00Z', 1640995200],
    ['2022-01-01T01:30:00+01:30', 1640995200],
    ['2021-12-31T19:00:00-05:00', 1640995200],
    ['2022-01-01T00:00:00.5Z', 1640995200.5],
    ['2024-02-29T00:00:00Z', 1709164800],
    ['9999-12-31T23:59:59Z', 253402300799],
  ])('%s is %d', (value, seconds) => {
    expect(rfc3339Seconds(value)).toBe(seconds);
  });

  it.each([
    '2022-01-01',
    '2022-01-01 00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2022-13-01T00:00:00Z',
    '2022-01-01T24:00:00Z',
    '2022-01-01T00:00:60Z',
    '2022-01-01T00:00:00+24:00',
    '0000-01-01T00:00:00Z',
    '1640995200',
    ' 2022-01-01T00:00:00Z',
  ])('%s is no date', (value) => {
    expect(rfc3339Seconds(value)).toBeUndefined();
  });

  it('converts exp, nbf and iat; a number or a bad string stays something the time step refuses', () => {
    const out = pasetoClaimsAsJwt({
      exp: '2022-01-01T00:00:00Z',
      nbf: 1640995200,
      iat: 'yesterday',
      sub: 'a',
    });
    expect(out.exp).toBe(1640995200);
    expect(typeof out.nbf).toBe('string');
    expect(out.iat).toBe('yesterday');
    expect(out.sub).toBe('a');
  });

  it('property: any instant in years 1-9999, written in RFC 3339 with any offset, reads back', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0001-01-02T00:00:00Z'),
          max: new Date('9999-12-30T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (at, offsetMinutes) => {
          const whole = Math.floor(at.getTime() / 1000);
          const local = new Date((whole + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
          const abs = Math.abs(offsetMinutes);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const pad = (n: number) => String(n).padStart(2, '0');
          const text = `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
          return rfc3339Seconds(text) === whole;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: the parser refuses or reads any string after the header, and never throws otherwise', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (rest) => {
        const reason = reasonOf(() => parsePasetoV4Public(`v4.public.${rest}`));
        return reason === 'TOKEN_MALFORMED' || reason === 'OK';
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.uint8Array({ maxLength: 50 }),
        (body, footer) => {
          const raw = `v4.public.${Buffer.from(body).toString('base64url')}${footer.length ? `.${Buffer.from(footer).toString('base64url')}` : ''}`;
          const reason = reasonOf(() => parsePasetoV4Public(raw));
          return reason === 'TOKEN_MALFORMED' || reason === 'OK';
        },
      ),
      { numRuns: 2000 },
    );
  });
});
