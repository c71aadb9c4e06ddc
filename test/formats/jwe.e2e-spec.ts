import { deflateRawSync } from 'node:zlib';
import { DiagnoseGrpcClient } from '../support/diagnose-grpc-client';
import { ADMIN_TOKEN, FormatsWorld, ISS } from './formats-world';

/**
 * Encrypted JWTs (JWE compact, nested JWS inside) against the real app: tokens made by jose with
 * every allowed algorithm pair resolve on HTTP and gRPC; the attacks the issue names are refused
 * with their reason on both; the diagnosis shows the decryption step and never a decrypted claim
 * when decryption failed.
 */
describe('JWE: encrypted JWTs on /v1/resolve, ResolveSubject and /v1/diagnose', () => {
  const w = new FormatsWorld();

  beforeAll(() => w.start('jwe'));
  afterAll(() => w.stop());

  const nested = async (issuer = ISS.a, overrides: Record<string, unknown> = {}) =>
    w.jws(issuer, overrides);

  it.each([
    ['RSA-OAEP-256', 'A256GCM', 'a-enc-rsa'],
    ['RSA-OAEP-256', 'A128GCM', 'a-enc-rsa'],
    ['ECDH-ES+A256KW', 'A256GCM', 'a-enc-ec'],
    ['ECDH-ES+A256KW', 'A128GCM', 'a-enc-ec'],
    ['ECDH-ES+A128KW', 'A256GCM', 'a-enc-ec'],
    ['ECDH-ES+A128KW', 'A128GCM', 'a-enc-ec'],
  ] as const)('%s with %s (kid %s) resolves on HTTP and gRPC', async (alg, enc, kid) => {
    const key = kid === 'a-enc-rsa' ? w.encA.rsa.publicKey : w.encA.ec.publicKey;
    const sub = `jwe-${alg}-${enc}`.toLowerCase();
    const token = await w.encrypt(await nested(ISS.a, { sub }), { alg, enc, kid, cty: 'JWT' }, key);
    expect(token.split('.')).toHaveLength(5);
    expect(await w.answers(token)).toEqual({ http: 'OK', grpc: 'OK', subject: sub });
  });

  it('dir and compression resolve where the issuer allows them', async () => {
    const dir = await w.encrypt(
      await nested(ISS.b, { sub: 'jwe-dir' }),
      { alg: 'dir', enc: 'A256GCM', kid: 'b-dir', cty: 'JWT' },
      w.encB.dir,
    );
    expect(await w.answers(dir)).toEqual({ http: 'OK', grpc: 'OK', subject: 'jwe-dir' });
    const zipped = await w.encrypt(
      await nested(ISS.b, { sub: 'jwe-zip' }),
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-enc-ec', cty: 'JWT', zip: 'DEF' },
      w.encB.ec.publicKey,
    );
    expect(await w.answers(zipped)).toEqual({ http: 'OK', grpc: 'OK', subject: 'jwe-zip' });
  });

  it('a repeated JWE is answered from the verified-token cache, keyed by the outer token', async () => {
    const token = await w.encrypt(
      await nested(ISS.a, { sub: 'jwe-cached' }),
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
      w.encA.rsa.publicKey,
    );
    expect((await w.app.resolveHttp({ token })).body.source).not.toBe('CACHE');
    expect((await w.app.resolveHttp({ token })).body.source).toBe('CACHE');
  });

  describe('attacks, each refused on HTTP and gRPC', () => {
    const refused = async (token: string, reason: string) => {
      expect(await w.answers(token)).toEqual({ http: reason, grpc: reason });
    };

    it('alg dir or RSA1_5 where the issuer does not list them: ALGORITHM_NOT_ALLOWED', async () => {
      const inner = await nested();
      // A real RSA1_5 token (made by jose 5), to a listed key id.
      await refused(
        await w.encrypt(
          inner,
          { alg: 'RSA1_5', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
        'ALGORITHM_NOT_ALLOWED',
      );
      await refused(
        await w.encrypt(
          inner,
          { alg: 'dir', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encB.dir,
        ),
        'ALGORITHM_NOT_ALLOWED',
      );
      await refused(
        await w.encrypt(
          inner,
          { alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
        'ALGORITHM_NOT_ALLOWED',
      );
    });

    it('a compression bomb stops at the bound: TOKEN_TOO_LARGE; compression where not allowed: TOKEN_MALFORMED', async () => {
      // 200 kB of claims deflate to a few hundred bytes; the issuer's bound is 4 kB.
      const bomb = await w.encrypt(
        JSON.stringify({ ...w.claims(ISS.b, { sub: 'bomb' }), pad: 'A'.repeat(200_000) }),
        { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-enc-ec', zip: 'DEF' },
        w.encB.ec.publicKey,
      );
      expect(bomb.length).toBeLessThan(2_000);
      expect(deflateRawSync('A'.repeat(200_000)).length).toBeLessThan(1_000);
      await refused(bomb, 'TOKEN_TOO_LARGE');
      await refused(
        await w.encrypt(
          await nested(),
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT', zip: 'DEF' },
          w.encA.rsa.publicKey,
        ),
        'TOKEN_MALFORMED',
      );
    });

    it('an unsigned inner payload: refused (ALGORITHM_NOT_ALLOWED) unless the issuer allows it', async () => {
      await refused(
        await w.encrypt(
          JSON.stringify(w.claims(ISS.a, { sub: 'unsigned' })),
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa' },
          w.encA.rsa.publicKey,
        ),
        'ALGORITHM_NOT_ALLOWED',
      );
      // alg none inside cty: JWT is a JWS the ordinary steps refuse.
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(w.claims(ISS.a))).toString('base64url')}.`;
      await refused(
        await w.encrypt(
          none,
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
        'ALGORITHM_NOT_ALLOWED',
      );
      const allowed = await w.encrypt(
        JSON.stringify(w.claims(ISS.b, { sub: 'unsigned-allowed' })),
        { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'b-enc-ec' },
        w.encB.ec.publicKey,
      );
      expect(await w.answers(allowed)).toEqual({
        http: 'OK',
        grpc: 'OK',
        subject: 'unsigned-allowed',
      });
    });

    it("a JWE whose inner JWS comes from another issuer: CLAIM_INVALID; B's JWT signed by A: SIGNATURE_INVALID", async () => {
      // Encrypted to A's key, a perfectly valid JWT of B inside.
      await refused(
        await w.encrypt(
          await nested(ISS.b),
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
        'CLAIM_INVALID',
      );
      // A JWT naming A but signed with B's key (its kid is B's): not A's signing key.
      const forged = await w.signB.sign(w.claims(ISS.a));
      await refused(
        await w.encrypt(
          forged,
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
        'SIGNING_KEY_NOT_FOUND',
      );
    });

    it('key confusion: encrypted to a signing key, or under a signing key id: DECRYPTION_FAILED', async () => {
      const inner = await nested();
      // Encrypted to A's RSA *signing* public key, labelled with the decryption key's kid.
      await refused(
        await w.encrypt(
          inner,
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.signA.rsa.publicKey,
        ),
        'DECRYPTION_FAILED',
      );
      // ... or under the signing key's own kid: no decryption key has it.
      await refused(
        await w.encrypt(
          inner,
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: w.signA.rsa.kid, cty: 'JWT' },
          w.signA.rsa.publicKey,
        ),
        'DECRYPTION_FAILED',
      );
    });

    it('five segments of garbage: TOKEN_MALFORMED or DECRYPTION_FAILED, never a 5xx', async () => {
      const header = (h: unknown) => Buffer.from(JSON.stringify(h)).toString('base64url');
      const good = header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa' });
      const cases: [string, string][] = [
        ['a.b.c.d.e', 'TOKEN_MALFORMED'],
        ['....', 'TOKEN_MALFORMED'],
        [`${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })}.a.b.c.d`, 'TOKEN_MALFORMED'],
        [
          `${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'nope' })}.a.b.c.d`,
          'DECRYPTION_FAILED',
        ],
        [
          `${header({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', crit: ['exp'] })}.a.b.c.d`,
          'TOKEN_MALFORMED',
        ],
        [`${good}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA`, 'DECRYPTION_FAILED'],
        [`${good}..AAAA..`, 'TOKEN_MALFORMED'],
      ];
      for (const [token, reason] of cases)
        expect({ token, ...(await w.answers(token)) }).toEqual({
          token,
          http: reason,
          grpc: reason,
        });
    });
  });

  describe('/v1/diagnose', () => {
    it('shows the format and the decryption step, then the nested JWS steps', async () => {
      const token = await w.encrypt(
        await nested(ISS.a, { sub: 'diagnosed' }),
        { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'a-enc-ec', cty: 'JWT' },
        w.encA.ec.publicKey,
      );
      const d = await w.diagnose(token);
      expect(d.verdict).toBe('OK');
      expect(d.step('format')).toMatchObject({ status: 'pass', details: { format: 'jwe' } });
      expect(d.step('decrypt')).toMatchObject({
        status: 'pass',
        details: {
          issuer: ISS.a,
          kid: 'a-enc-ec',
          alg: 'ECDH-ES+A256KW',
          enc: 'A256GCM',
          nested: 'JWS',
        },
      });
      expect(d.step('signature')?.status).toBe('pass');
      expect(d.step('decode')?.details.payload).toMatchObject({ sub: 'diagnosed' });
    });

    it('never shows a decrypted claim when decryption failed', async () => {
      const inner = await nested(ISS.a, { sub: 'secret-subject', email: 'secret@example.com' });
      for (const token of [
        await w.encrypt(
          inner,
          { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.signA.rsa.publicKey,
        ),
        await w.encrypt(
          inner,
          { alg: 'RSA1_5', enc: 'A256GCM', kid: 'a-enc-rsa', cty: 'JWT' },
          w.encA.rsa.publicKey,
        ),
      ]) {
        const d = await w.diagnose(token);
        expect(d.step('decrypt')?.status).toBe('fail');
        expect(d.step('decode')?.status).toBe('skip');
        expect(d.text).not.toMatch(/secret-subject|secret@example\.com/);
        // The same over gRPC DiagnoseSubject (details as JSON).
        const grpc = new DiagnoseGrpcClient(w.app.resolver.grpcAddress);
        const g = await grpc.diagnose(token, ADMIN_TOKEN);
        grpc.close();
        if (!g.ok) throw new Error(`gRPC diagnose failed: ${g.message}`);
        expect(g.response.verdict).toBe(d.verdict);
        expect(JSON.stringify(g.response)).not.toMatch(/secret-subject|secret@example\.com/);
      }
    });
  });

  it('metrics count the answers by format (a closed set of labels)', async () => {
    const metrics = (await w.app.http('/metrics')).body as string;
    const count = (format: string, outcome: string) =>
      Number(
        new RegExp(
          `^resolver_token_formats_total\\{format="${format}",outcome="${outcome}"\\} (\\d+)`,
          'm',
        ).exec(metrics)?.[1],
      );
    expect(count('jwe', 'resolved')).toBeGreaterThan(0);
    expect(count('jwe', 'refused')).toBeGreaterThan(0);
    expect(count('paseto', 'resolved')).toBe(0);
    expect(metrics).not.toMatch(
      /resolver_token_formats_total\{format="(?!jws|jwe|paseto|opaque|none")/,
    );
  });
});
