import vectors from '../../libs/tokens/src/formats/fixtures/paseto-v4-vectors.json';
import { FormatsWorld, ISS, NOW } from './formats-world';

/**
 * PASETO v4.public against the real app: tokens signed with the official test vectors' key (and
 * a PEM key) resolve on HTTP and gRPC through the same claim, time, subject and tenant steps as
 * a JWT; the official vectors themselves parse and verify; the attacks the issue names are
 * refused with their reason on both; the diagnosis shows the format, key and signature steps.
 */
describe('PASETO v4.public on /v1/resolve, ResolveSubject and /v1/diagnose', () => {
  const w = new FormatsWorld();

  beforeAll(() => w.start('paseto'));
  afterAll(() => w.stop());

  const refused = async (token: string, reason: string) => {
    expect(await w.answers(token)).toEqual({ http: reason, grpc: reason });
  };

  it('a token signed with the vectors’ key (PASERK) and one with the PEM key resolve', async () => {
    const a = w.paseto(w.pasetoClaims(ISS.p, { sub: 'paseto-vectors-key' }));
    expect(await w.answers(a)).toEqual({ http: 'OK', grpc: 'OK', subject: 'paseto-vectors-key' });
    const b = w.paseto(w.pasetoClaims(ISS.p, { sub: 'paseto-pem-key' }), {
      footer: '{"kid":"p-pem"}',
      key: w.pasetoPem.privateKey,
    });
    expect(await w.answers(b)).toEqual({ http: 'OK', grpc: 'OK', subject: 'paseto-pem-key' });
    // RFC 3339 times reach the answer as the JWT's do.
    const http = await w.app.resolveHttp({ token: a });
    expect(http.body.token.expiresAt).toBe(new Date((NOW + 600) * 1000).toISOString());
  });

  it('the official vectors in the app: the v4.public ones parse and stop at the issuer (their claims name none), the failure ones are refused', async () => {
    for (const vector of vectors.tests.filter(
      (v) => !v['expect-fail'] && v.footer.includes('kid'),
    )) {
      const d = await w.diagnose(vector.token);
      expect(d.step('format')?.details.format).toBe('paseto');
      expect(d.step('decode')?.details.payload).toMatchObject({ data: 'this is a signed message' });
      // No "iss" in the vectors: the issuer step stops there, as it would for a JWT.
      expect(d.verdict).toBe('ISSUER_UNKNOWN');
    }
    for (const vector of vectors.tests.filter((v) => v['expect-fail'])) {
      const { http, grpc } = await w.answers(vector.token);
      expect({ name: vector.name, http, grpc }).toEqual({
        name: vector.name,
        http: expect.stringMatching(/^(TOKEN_MALFORMED|ISSUER_UNKNOWN)$/),
        grpc: http,
      });
    }
  });

  describe('attacks, each refused on HTTP and gRPC', () => {
    it('v4.local presented as public, and the v3 header: TOKEN_MALFORMED by the format step', async () => {
      const local = vectors.tests.find((v) => v.name === '4-F-4')?.token as string;
      await refused(local, 'TOKEN_MALFORMED');
      // A real v4.public body under the v4.local header (a local token presented as public).
      const body = w.paseto(w.pasetoClaims(ISS.p)).slice('v4.public.'.length);
      await refused(`v4.local.${body}`, 'TOKEN_MALFORMED');
      await refused(`v3.public.${body}`, 'TOKEN_MALFORMED');
      await refused(w.paseto(w.pasetoClaims(ISS.p), { header: 'v3.public.' }), 'TOKEN_MALFORMED');
      const d = await w.diagnose(`v4.local.${body}`);
      expect(d.step('format')).toMatchObject({ status: 'fail' });
      expect(d.step('format')?.finding).toContain('v4.local');
    });

    it('a tampered footer: SIGNATURE_INVALID', async () => {
      const good = w.paseto(w.pasetoClaims(ISS.p));
      const cut = good.lastIndexOf('.');
      const footer = Buffer.from('{"kid":"vectors","x":1}').toString('base64url');
      await refused(`${good.slice(0, cut)}.${footer}`, 'SIGNATURE_INVALID');
      // The footer taken away altogether: no kid, every key tried, none verifies.
      await refused(good.slice(0, cut), 'SIGNATURE_INVALID');
    });

    it('an expired RFC 3339 time: TOKEN_EXPIRED; a time that is no date: CLAIM_INVALID', async () => {
      const iso = (s: number) => new Date(s * 1000).toISOString();
      await refused(w.paseto(w.pasetoClaims(ISS.p, { exp: iso(NOW - 3600) })), 'TOKEN_EXPIRED');
      await refused(
        w.paseto(w.pasetoClaims(ISS.p, { nbf: iso(NOW + 3600) })),
        'TOKEN_NOT_YET_VALID',
      );
      await refused(
        w.paseto(w.pasetoClaims(ISS.p, { exp: '2026-02-30T00:00:00Z' })),
        'CLAIM_INVALID',
      );
      await refused(w.paseto(w.pasetoClaims(ISS.p, { exp: NOW + 600 })), 'CLAIM_INVALID');
      await refused(
        w.paseto(w.pasetoClaims(ISS.p, { aud: 'api://elsewhere' })),
        'AUDIENCE_MISMATCH',
      );
    });

    it('a wrong implicit assertion: SIGNATURE_INVALID', async () => {
      await refused(
        w.paseto(w.pasetoClaims(ISS.p), { implicit: 'another-tenant' }),
        'SIGNATURE_INVALID',
      );
      await refused(w.paseto(w.pasetoClaims(ISS.p), { implicit: '' }), 'SIGNATURE_INVALID');
    });

    it('a key of another issuer: its kid is unknown here (SIGNING_KEY_NOT_FOUND), or it does not verify', async () => {
      await refused(
        w.paseto(w.pasetoClaims(ISS.p), { footer: '{"kid":"q-1"}', key: w.pasetoQ.privateKey }),
        'SIGNING_KEY_NOT_FOUND',
      );
      await refused(
        w.paseto(w.pasetoClaims(ISS.p), { footer: '{"kid":"vectors"}', key: w.pasetoQ.privateKey }),
        'SIGNATURE_INVALID',
      );
      // Q's own token with Q's key resolves: the key is fine, only not P's.
      expect(
        await w.answers(
          w.paseto(w.pasetoClaims(ISS.q, { sub: 'q-user' }), {
            footer: '{"kid":"q-1"}',
            key: w.pasetoQ.privateKey,
            implicit: '',
          }),
        ),
      ).toEqual({ http: 'OK', grpc: 'OK', subject: 'q-user' });
    });

    it('an issuer without PASETO keys: ALGORITHM_NOT_ALLOWED', async () => {
      await refused(w.paseto(w.pasetoClaims(ISS.a)), 'ALGORITHM_NOT_ALLOWED');
    });

    it('hostile footers and claims: TOKEN_MALFORMED, never a 5xx', async () => {
      const claims = w.pasetoClaims(ISS.p);
      for (const footer of [
        'not json',
        '{"kid":1}',
        '{"kid":"a","kid":"b"}',
        `{"kid":"${'k'.repeat(300)}"}`,
        '[]',
      ]) {
        expect({ footer, ...(await w.answers(w.paseto(claims, { footer }))) }).toEqual({
          footer,
          http: 'TOKEN_MALFORMED',
          grpc: 'TOKEN_MALFORMED',
        });
      }
      // A "__proto__" member is a plain claim, never the claims' prototype.
      const proto = w.paseto(
        JSON.stringify({ ...claims, sub: 'proto-user' }).replace(
          '{',
          '{"__proto__":{"tid":"evil"},',
        ),
      );
      expect(await w.answers(proto)).toEqual({ http: 'OK', grpc: 'OK', subject: 'proto-user' });
      await refused(`${w.paseto(claims)}.extra`, 'TOKEN_MALFORMED');
    });
  });

  it('/v1/diagnose shows the format, key and signature steps of a PASETO token', async () => {
    const d = await w.diagnose(w.paseto(w.pasetoClaims(ISS.p, { sub: 'diagnosed' })));
    expect(d.verdict).toBe('OK');
    expect(d.step('format')).toMatchObject({ status: 'pass', details: { format: 'paseto' } });
    expect(d.step('decrypt')?.status).toBe('skip');
    expect(d.step('key')).toMatchObject({ status: 'pass', details: { kid: 'vectors' } });
    expect(d.step('signature')?.status).toBe('pass');
    expect(d.step('time')?.status).toBe('pass');
    const bad = await w.diagnose(w.paseto(w.pasetoClaims(ISS.p), { implicit: 'other' }));
    expect(bad.verdict).toBe('SIGNATURE_INVALID');
    expect(bad.step('signature')?.status).toBe('fail');
  });
});
