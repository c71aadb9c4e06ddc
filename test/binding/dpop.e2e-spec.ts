import { generateKeyPairSync, hash, sign } from 'node:crypto';
import * as DPoP from 'dpop';
import type { Pool } from 'pg';
import { AuthorizationServer } from '../support/authorization-server';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { DiagnoseGrpcClient } from '../support/diagnose-grpc-client';
import { ExtAuthzClient } from '../support/ext-authz-client';
import { NginxGateway } from '../support/nginx-gateway';
import { ResolverHarness } from '../support/resolver-harness';

const RESOURCE = 'https://api.binding.test';
const ADMIN_TOKEN = 'admin-secret-for-binding-tests-0123456789';
const URL_ = `${RESOURCE}/orders/42`;

/**
 * DPoP-bound tokens (RFC 9449) end to end: a real authorisation server (oidc-provider) issues
 * DPoP-bound JWT access tokens; proofs come from panva's `dpop` library (hand-rolled only for
 * the malformed ones). Two resolver replicas share one Postgres: a proof used on one is a replay
 * on the other. Every entry point that can carry a proof: POST /v1/resolve, ResolveSubject
 * (gRPC), forward-auth (nginx's X-Original-* headers) and ext_authz Check.
 */
describe('DPoP-bound tokens from a real authorisation server', () => {
  let as: AuthorizationServer;
  let a: ResolverHarness;
  let b: ResolverHarness;
  let db: Pool;
  let extAuthz: ExtAuthzClient;
  let client: DPoP.KeyPair;
  let token: string;

  const proof = (method = 'GET', uri = URL_, keypair = client, at = token) =>
    DPoP.generateProof(keypair, uri, method, undefined, at);
  const resolveHttp = (app: ResolverHarness, dpop: string | undefined, extra = {}) =>
    app.http('/v1/resolve', {
      method: 'POST',
      headers: {
        authorization: `DPoP ${token}`,
        'content-type': 'application/json',
        ...(dpop ? { dpop } : {}),
      },
      body: JSON.stringify({ method: 'GET', uri: URL_, ...extra }),
    });
  const forwardAuth = (app: ResolverHarness, headers: Record<string, string>) =>
    app.http('/v1/authz', {
      headers: {
        'x-original-method': 'GET',
        'x-original-url': URL_,
        authorization: `DPoP ${token}`,
        ...headers,
      },
    });

  /** A hand-rolled proof (for malformed ones): header and claims as given, signed ES256. */
  function handRolled(header: Record<string, unknown>, claims: Record<string, unknown>): string {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicKey.export({ format: 'jwk' }), ...header })}.${b64(
      {
        jti: `j-${Math.random()}`,
        htm: 'GET',
        htu: URL_,
        iat: Math.floor(Date.now() / 1000),
        ath: hash('sha256', token, 'base64url'),
        ...claims,
      },
    )}`;
    const signature =
      header.alg === undefined
        ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : Buffer.alloc(0);
    return `${input}.${signature.toString('base64url')}`;
  }

  beforeAll(async () => {
    as = await AuthorizationServer.start(RESOURCE);
    const databaseUrl = await createTestDatabase('binding_dpop');
    const issuers = [
      {
        issuer: as.issuer,
        jwksUri: as.jwksUri,
        audiences: [RESOURCE],
        algorithms: ['ES256'],
        typ: 'at+jwt',
        serviceAccounts: { subEqualsClientId: true },
        binding: { mode: 'dpop', enforcement: 'required' },
      },
    ];
    a = await ResolverHarness.start({ databaseUrl, issuers, env: { ADMIN_TOKEN } });
    b = await ResolverHarness.start({ databaseUrl, issuers });
    db = sqlPool(databaseUrl);
    await seedUser(db, as.issuer, { subject: 'dpop-client', kind: 'service', email: null });
    extAuthz = new ExtAuthzClient(a.resolver.grpcAddress);
    client = await DPoP.generateKeyPair('ES256');
    token = await as.dpopToken(client);
  });

  afterAll(async () => {
    extAuthz?.close();
    await Promise.all([a?.close(), b?.close(), db?.end(), as?.stop()]);
  });

  it('the authorisation server binds the token to the client key (cnf.jkt)', async () => {
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      cnf?: { jkt?: string };
    };
    expect(claims.cnf?.jkt).toBe(await DPoP.calculateThumbprint(client.publicKey));
  });

  it('POST /v1/resolve: accepted with a fresh proof each time, cached or not; replays refused on either replica', async () => {
    const first = await resolveHttp(a, await proof());
    expect([first.status, first.body.source]).toEqual([200, 'STORE']);
    const second = await resolveHttp(a, await proof());
    expect([second.status, second.body.source]).toEqual([200, 'CACHE']);
    // The same proof again: on this replica, and on the other one (one Postgres).
    const used = await proof();
    expect((await resolveHttp(a, used)).status).toBe(200);
    const again = await resolveHttp(a, used);
    expect([again.status, again.body.reason]).toEqual([401, 'PROOF_REPLAYED']);
    expect(again.headers.get('www-authenticate')).toBe(
      'DPoP realm="subject-resolver", error="invalid_dpop_proof", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 EdDSA"',
    );
    const onB = await resolveHttp(b, used);
    expect([onB.status, onB.body.reason]).toEqual([401, 'PROOF_REPLAYED']);
    // And a proof first used on the other replica.
    const viaB = await proof();
    expect((await resolveHttp(b, viaB)).status).toBe(200);
    expect((await resolveHttp(a, viaB)).body.reason).toBe('PROOF_REPLAYED');
  });

  it('refuses the attacks: another method or URI, stale iat, alg none/HS256, a private jwk, another key, Bearer, no proof', async () => {
    const reason = async (dpop: string | undefined, extra = {}) =>
      (await resolveHttp(a, dpop, extra)).body.reason as string;
    expect(await reason(await proof('POST'))).toBe('PROOF_INVALID');
    expect(await reason(await proof('GET', `${RESOURCE}/admin`))).toBe('PROOF_INVALID');
    expect(await reason(await proof(), { uri: `${RESOURCE}/orders/43` })).toBe('PROOF_INVALID');
    // A proof the library made two minutes ago (its clock moved back while it signed).
    const realNow = Date.now.bind(Date);
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 120_000);
    const stale = await proof();
    spy.mockRestore();
    expect(await reason(stale)).toBe('PROOF_INVALID');
    expect(await reason(handRolled({ alg: 'none' }, {}))).toBe('PROOF_INVALID');
    expect(await reason(handRolled({ alg: 'HS256' }, {}))).toBe('PROOF_INVALID');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await reason(handRolled({ jwk: priv.privateKey.export({ format: 'jwk' }) }, {}))).toBe(
      'PROOF_INVALID',
    );
    // A valid proof of another key: the thumbprint is not cnf.jkt.
    const thief = await DPoP.generateKeyPair('ES256');
    expect(await reason(await proof('GET', URL_, thief))).toBe('BINDING_MISMATCH');
    expect(await reason(undefined)).toBe('PROOF_MISSING');
    const bearer = await a.http('/v1/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, dpop: await proof() },
    });
    expect([bearer.status, bearer.body.reason]).toEqual([401, 'BINDING_MISMATCH']);
    // The issuer requires DPoP: only the DPoP scheme is offered.
    expect(bearer.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="subject-resolver", error="invalid_token", algs="/,
    );
  });

  it('ResolveSubject (gRPC): the proof, method and URI as fields, or the proof as dpop metadata', async () => {
    const ok = await a.grpc.resolve({
      authorization: `DPoP ${token}`,
      fields: { dpopProof: await proof(), method: 'GET', uri: URL_ },
    });
    expect(ok.ok).toBe(true);
    const viaMetadata = await a.grpc.resolve({
      token,
      metadata: { dpop: await proof() },
      fields: { method: 'GET', uri: URL_ },
    });
    expect(viaMetadata.ok).toBe(true);
    const missing = await a.grpc.resolve({
      authorization: `DPoP ${token}`,
      fields: { method: 'GET', uri: URL_ },
    });
    expect(missing).toMatchObject({ ok: false, code: 16, reason: 'PROOF_MISSING' });
    expect(missing.ok ? undefined : missing.info?.www_authenticate).toMatch(
      /^DPoP realm="subject-resolver", error="invalid_dpop_proof", algs="ES256/,
    );
    const wrongUri = await a.grpc.resolve({
      authorization: `DPoP ${token}`,
      fields: { dpopProof: await proof(), method: 'GET', uri: `${RESOURCE}/other` },
    });
    expect(wrongUri).toMatchObject({ ok: false, reason: 'PROOF_INVALID' });
  });

  it('forward-auth (nginx X-Original-Method / X-Original-URL and the DPoP header)', async () => {
    const ok = await forwardAuth(a, { dpop: await proof() });
    expect(ok.status).toBe(200);
    const replayed = await proof();
    expect((await forwardAuth(b, { dpop: replayed })).status).toBe(200);
    const again = await forwardAuth(a, { dpop: replayed });
    expect(again.status).toBe(401);
    expect(again.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    expect((await forwardAuth(a, {})).status).toBe(401);
    // A client's own X-Forwarded-* that disagree with the gateway's X-Original-*: refused.
    const steered = await forwardAuth(a, {
      dpop: await proof('DELETE', `${RESOURCE}/admin`),
      'x-forwarded-method': 'DELETE',
    });
    expect(steered.status).toBe(401);
  });

  it('behind a real nginx running docker/nginx/nginx.conf: the proof for the URL the client used', async () => {
    const nginx = await NginxGateway.start(a.url);
    try {
      const url = `${nginx.url}/orders/42?expand=1`;
      const call = async (dpop: string | undefined, method = 'GET') =>
        fetch(url, {
          method,
          headers: { authorization: `DPoP ${token}`, ...(dpop ? { dpop } : {}) },
        });
      const used = await proof('GET', url);
      expect((await call(used)).status).toBe(200);
      const replayed = await call(used);
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
      expect((await call(await proof('GET', `${nginx.url}/admin`))).status).toBe(401);
      expect((await call(await proof('POST', url))).status).toBe(401);
      expect((await call(undefined)).status).toBe(401);
      // The client's own X-Original-URL is replaced by nginx's.
      const spoof = await fetch(url, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await proof('GET', `${RESOURCE}/elsewhere`),
          'x-original-url': `${RESOURCE}/elsewhere`,
        },
      });
      expect(spoof.status).toBe(401);
    } finally {
      await nginx.stop();
    }
  });

  it('ext_authz Check: the method, scheme, host and path Envoy saw, and its DPoP header', async () => {
    const headers = async (method = 'GET', uri = URL_) => ({
      authorization: `DPoP ${token}`,
      dpop: await proof(method, uri),
    });
    const at = { host: 'api.binding.test', scheme: 'https' };
    const ok = await extAuthz.check(await headers(), '/orders/42?expand=1', at);
    expect(ok.status.code).toBe(0);
    const post = await extAuthz.check(await headers('GET'), '/orders/42', {
      ...at,
      method: 'POST',
    });
    expect([post.status.code, post.deniedResponse.status.code]).toEqual([16, 'Unauthorized']);
    const hdrs = Object.fromEntries(
      (post.deniedResponse.headers as { header: { key: string; value: string } }[]).map((h) => [
        h.header.key,
        h.header.value,
      ]),
    );
    expect(hdrs['www-authenticate']).toContain(
      'DPoP realm="subject-resolver", error="invalid_dpop_proof"',
    );
    const bearer = await extAuthz.check(
      { authorization: `Bearer ${token}`, dpop: await proof() },
      '/orders/42',
      at,
    );
    expect(bearer.status.code).toBe(16);
  });

  it('diagnose shows the binding step: which binding, and what did not match', async () => {
    const res = await a.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.body.verdict.reason).toBe('PROOF_MISSING');
    const step = (res.body.steps as { step: string; status: string; finding: string }[]).find(
      (s) => s.step === 'binding',
    );
    expect(step?.status).toBe('fail');
    expect(step?.finding).toContain('DPoP (cnf.jkt)');
  });

  it('diagnose, given the request the token came with, predicts what resolve answers for it (HTTP and gRPC), and remembers no proof', async () => {
    const diagnose = async (body: Record<string, unknown>) => {
      const res = await a.http('/v1/diagnose', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return res.body.verdict.reason as string;
    };
    const request = { token, scheme: 'DPoP', method: 'GET', uri: URL_ };
    // A fresh proof: OK, and the diagnosis did not spend it: resolve accepts it once after.
    const fresh = await proof();
    expect(await diagnose({ ...request, dpopProof: fresh })).toBe('OK');
    expect((await resolveHttp(a, fresh)).status).toBe(200);
    // Now it is a replay, for resolve and for the diagnosis alike.
    expect([
      await diagnose({ ...request, dpopProof: fresh }),
      (await resolveHttp(a, fresh)).body.reason,
    ]).toEqual(['PROOF_REPLAYED', 'PROOF_REPLAYED']);
    // A proof for another URI, and one for another method: the reason resolve gives, each.
    const otherUri = await proof('GET', `${RESOURCE}/orders/43`);
    const otherMethod = await proof('POST');
    expect(await diagnose({ ...request, dpopProof: otherUri })).toBe('PROOF_INVALID');
    expect((await resolveHttp(a, otherUri)).body.reason).toBe('PROOF_INVALID');
    expect(await diagnose({ ...request, dpopProof: otherMethod })).toBe('PROOF_INVALID');
    // Sent as Bearer, the bound token is refused whatever the proof (never downgraded).
    const bearer = await a.http('/v1/resolve', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        dpop: await proof(),
      },
      body: JSON.stringify({ method: 'GET', uri: URL_ }),
    });
    expect(await diagnose({ ...request, scheme: 'Bearer', dpopProof: await proof() })).toBe(
      bearer.body.reason,
    );
    // A malformed field is the binding step's refusal, as resolve's is.
    expect(await diagnose({ ...request, dpopProof: await proof(), method: 'GET /x' })).toBe(
      (await resolveHttp(a, await proof(), { method: 'GET /x' })).body.reason,
    );
    // gRPC DiagnoseSubject takes ResolveSubject's fields too.
    const grpc = new DiagnoseGrpcClient(a.resolver.grpcAddress);
    try {
      const ok = await grpc.diagnose({ ...request, dpopProof: await proof() }, ADMIN_TOKEN);
      expect(ok.ok && ok.response.verdict).toBe('OK');
      const missing = await grpc.diagnose({ token, scheme: 'DPoP' }, ADMIN_TOKEN);
      expect(missing.ok && missing.response.verdict).toBe('PROOF_MISSING');
    } finally {
      grpc.close();
    }
  });

  it('diagnose takes hostile request fields without harm: a clear refusal, never a 5xx, never OK', async () => {
    const send = (raw: string) =>
      a.http('/v1/diagnose', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: raw,
      });
    const fresh = await proof();
    const base = { token, scheme: 'DPoP', method: 'GET', uri: URL_, dpopProof: fresh };
    const hostile: string[] = [
      // Prototype keys, at the top and inside a field.
      `{"__proto__": {"dpopProof": "x"}, "token": ${JSON.stringify(token)}, "scheme": "DPoP"}`,
      JSON.stringify({ ...base, constructor: { prototype: { uri: URL_ } } }),
      JSON.stringify({ ...base, dpopProof: { __proto__: fresh } }),
      // Wrong types, NUL bytes, oversized values, an unknown scheme.
      JSON.stringify({ ...base, dpopProof: 42 }),
      JSON.stringify({ ...base, method: ['GET'] }),
      JSON.stringify({ ...base, method: 'G\u0000T' }),
      JSON.stringify({ ...base, uri: `${URL_}\u0000` }),
      JSON.stringify({ ...base, uri: `https://x/${'a'.repeat(20_000)}` }),
      JSON.stringify({ ...base, dpopProof: `${fresh}\u0000` }),
      JSON.stringify({ ...base, scheme: 'Basic' }),
      JSON.stringify({ ...base, scheme: { toString: 'DPoP' } }),
    ];
    for (const [i, raw] of hostile.entries()) {
      const res = await send(raw);
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) expect([i, res.body.verdict.reason]).not.toEqual([i, 'OK']);
      else expect(res.status).toBe(400);
    }
    // A member the answer does not rest on changes nothing: an untrusted certificate field is
    // dropped unread (the token is DPoP-bound, not certificate-bound).
    const ignored = await send(
      JSON.stringify({ ...base, clientCertificate: '-----BEGIN CERTIFICATE-----\u0000' }),
    );
    expect([ignored.status, ignored.body.verdict.reason]).toEqual([200, 'OK']);
    // None of it spent the proof, and the process still answers it.
    expect((await resolveHttp(a, fresh)).status).toBe(200);
  });
});
