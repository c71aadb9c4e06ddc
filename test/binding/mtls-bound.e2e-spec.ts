import { curl } from '../tls/tls-fixture';
import {
  claimsOf,
  extAuthzCheck,
  GATEWAY_SECRET,
  MtlsFixture,
  type MtlsTestClient,
  resolveSubject,
} from './mtls-fixture';

/**
 * Certificate-bound tokens (RFC 8705) from a real authorisation server (oidc-provider, tokens
 * bound to the certificate each client authenticated with over mutual TLS), checked on every
 * entry point that can carry the client certificate: ext_authz with the peer certificate and
 * with XFCC, ResolveSubject and POST /v1/resolve with the certificate field, and POST /v1/resolve
 * over the resolver's own TLS listener with the backend's own certificate. Forwarded
 * certificates are believed here only with the gateway's shared secret.
 */
describe('certificate-bound tokens: ext_authz, ResolveSubject, POST /v1/resolve', () => {
  let fx: MtlsFixture;
  let grpc: string;
  const trusted = { 'x-gateway-secret': GATEWAY_SECRET };

  beforeAll(async () => {
    fx = await MtlsFixture.start('mtls-bound', async (pki) => {
      const server = await pki.server('resolver');
      return {
        binding: {
          forwardedCertificate: {
            format: 'xfcc',
            sharedSecret: { env: 'GATEWAY_SECRET' },
            secretHeader: 'x-gateway-secret',
          },
        },
        // The HTTP listener serves TLS and asks for (optional) client certificates, for the
        // backend that calls with its own certificate.
        tls: {
          http: {
            certFile: server.cert,
            keyFile: server.key,
            caFile: pki.caCert,
            clientCertificate: 'optional',
          },
        },
      };
    });
    grpc = fx.app.resolver.grpcAddress;
  });

  afterAll(() => fx?.close());

  const escaped = (c: MtlsTestClient) => encodeURIComponent(c.pem);
  const hex = (c: MtlsTestClient) => Buffer.from(c.x5t, 'base64url').toString('hex');
  /** An XFCC element as Envoy writes it with `set_current_client_cert_details: {cert: true}`. */
  const xfcc = (c: MtlsTestClient, hash = hex(c)) =>
    `By=spiffe://example/ns/api/sa/api;Hash=${hash};Cert="${escaped(c)}";Subject="CN=${c.clientId},O=Binding Test";DNS=${c.clientId}.example`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('gets tokens bound to each client certificate from the authorisation server', async () => {
    const a = await fx.token(fx.clients.a);
    const b = await fx.token(fx.clients.b);
    expect(claimsOf(a)).toMatchObject({ sub: 'client-a', cnf: { 'x5t#S256': fx.clients.a.x5t } });
    expect(claimsOf(b)).toMatchObject({ sub: 'client-b', cnf: { 'x5t#S256': fx.clients.b.x5t } });
    // No certificate, no token: the client authenticates with it (tls_client_auth).
    expect((await fx.as.token('client-a', undefined)).status).toBe(401);
  });

  describe('ext_authz Check', () => {
    it('allows the peer certificate the token is bound to (include_peer_certificate)', async () => {
      const token = await fx.token(fx.clients.a);
      const res = await extAuthzCheck(
        grpc,
        { headers: bearer(token), sourceCertificate: escaped(fx.clients.a) },
        trusted,
      );
      expect(res.code).toBe(0);
    });

    it("refuses another client's certificate, no certificate, and an untrusted caller's", async () => {
      const token = await fx.token(fx.clients.a);
      const check = (sourceCertificate: string | undefined, metadata: Record<string, string>) =>
        extAuthzCheck(grpc, { headers: bearer(token), sourceCertificate }, metadata);
      expect(await check(escaped(fx.clients.b), trusted)).toMatchObject({
        code: 16,
        reason: 'BINDING_MISMATCH',
        httpStatus: 'Unauthorized',
      });
      expect(await check(undefined, trusted)).toMatchObject({ reason: 'PROOF_MISSING' });
      // The right certificate, but from a caller without the secret: dropped, so missing.
      expect(await check(escaped(fx.clients.a), {})).toMatchObject({ reason: 'PROOF_MISSING' });
      expect(
        await check(escaped(fx.clients.a), { 'x-gateway-secret': `${GATEWAY_SECRET}x` }),
      ).toMatchObject({ reason: 'PROOF_MISSING' });
      expect(
        await check(escaped(fx.clients.a), { 'x-gateway-secret': GATEWAY_SECRET.slice(0, -1) }),
      ).toMatchObject({ reason: 'PROOF_MISSING' });
    });

    it('reads XFCC: the last element, with Hash= and Cert= agreeing', async () => {
      const token = await fx.token(fx.clients.a);
      const check = (header: string, metadata: Record<string, string> = trusted) =>
        extAuthzCheck(
          grpc,
          { headers: { ...bearer(token), 'x-forwarded-client-cert': header } },
          metadata,
        );
      expect((await check(xfcc(fx.clients.a))).code).toBe(0);
      // Hash= only (set_current_client_cert_details without cert): the hex digest converted.
      expect((await check(`Hash=${hex(fx.clients.a)}`)).code).toBe(0);
      // An element the client smuggled in front of the gateway's own is not read.
      expect((await check(`${xfcc(fx.clients.b)},${xfcc(fx.clients.a)}`)).code).toBe(0);
      expect(await check(`${xfcc(fx.clients.a)},${xfcc(fx.clients.b)}`)).toMatchObject({
        reason: 'BINDING_MISMATCH',
      });
      // A tampered Hash= (another certificate's digest beside this Cert=).
      expect(await check(xfcc(fx.clients.b, hex(fx.clients.a)))).toMatchObject({
        reason: 'PROOF_INVALID',
      });
      // A forged XFCC from a caller without the secret is dropped: the token has no certificate.
      expect(await check(xfcc(fx.clients.a), {})).toMatchObject({ reason: 'PROOF_MISSING' });
    });

    it('checks a cached token on every request: never answered from memory without its certificate', async () => {
      const token = await fx.token(fx.clients.a);
      const ok = { headers: bearer(token), sourceCertificate: escaped(fx.clients.a) };
      expect((await extAuthzCheck(grpc, ok, trusted)).code).toBe(0);
      expect((await extAuthzCheck(grpc, ok, trusted)).code).toBe(0);
      expect(await extAuthzCheck(grpc, { headers: bearer(token) }, trusted)).toMatchObject({
        reason: 'PROOF_MISSING',
      });
    });

    it('answers hostile certificate values with PROOF_INVALID, never an error', async () => {
      const token = await fx.token(fx.clients.a);
      const hostile = [
        '%',
        '%C0%80',
        'A'.repeat(40_000),
        encodeURIComponent(`${fx.clients.a.pem}${fx.clients.b.pem}`),
        escaped(fx.clients.a).slice(0, 300),
        Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)).toString('latin1'),
      ];
      for (const value of hostile) {
        const peer = await extAuthzCheck(
          grpc,
          { headers: bearer(token), sourceCertificate: value },
          trusted,
        );
        expect([value.slice(0, 20), peer.reason]).toEqual([value.slice(0, 20), 'PROOF_INVALID']);
        const header = await extAuthzCheck(
          grpc,
          { headers: { ...bearer(token), 'x-forwarded-client-cert': value } },
          trusted,
        );
        expect(header.code).toBe(16);
      }
      const huge = `Hash=${'a'.repeat(64)};Subject="${'x'.repeat(200_000)}"`;
      expect(
        await extAuthzCheck(
          grpc,
          { headers: { ...bearer(token), 'x-forwarded-client-cert': huge } },
          trusted,
        ),
      ).toMatchObject({ reason: 'PROOF_INVALID' });
      // Still serving.
      const ok = { headers: bearer(token), sourceCertificate: escaped(fx.clients.a) };
      expect((await extAuthzCheck(grpc, ok, trusted)).code).toBe(0);
    });
  });

  describe('ResolveSubject (gRPC) with the client_certificate field', () => {
    it('resolves with the trusted field and refuses the wrong, missing or untrusted one', async () => {
      const token = await fx.token(fx.clients.a);
      const resolve = (clientCertificate: string, metadata: Record<string, string> = trusted) =>
        resolveSubject(grpc, { token, clientCertificate }, metadata);
      const ok = await resolve(fx.clients.a.pem);
      expect(ok.ok).toBe(true);
      expect(ok.response?.principal?.kind).toBe('service');
      expect(await resolve(escaped(fx.clients.a))).toMatchObject({ ok: true });
      expect(await resolve(fx.clients.b.pem)).toMatchObject({
        code: 16,
        reason: 'BINDING_MISMATCH',
      });
      expect(await resolve('')).toMatchObject({ reason: 'PROOF_MISSING' });
      expect(await resolve('not a certificate')).toMatchObject({ reason: 'PROOF_INVALID' });
      // A backend the resolver does not trust cannot vouch for a certificate (it is public).
      expect(await resolve(fx.clients.a.pem, {})).toMatchObject({ reason: 'PROOF_MISSING' });
    });
  });

  describe('POST /v1/resolve', () => {
    const post = (
      token: string,
      options: {
        client?: MtlsTestClient;
        body?: Record<string, string>;
        headers?: Record<string, string>;
      } = {},
    ) =>
      curl(`${fx.app.url}/v1/resolve`, {
        ca: fx.pki.caCert,
        method: 'POST',
        client: options.client,
        headers: { 'content-type': 'application/json', ...bearer(token), ...options.headers },
        body: JSON.stringify(options.body ?? {}),
      });
    const reason = (body: string) => (JSON.parse(body) as { reason?: string }).reason;

    it("accepts the caller's own TLS certificate when the token is bound to it", async () => {
      const token = await fx.token(fx.clients.a);
      const res = await post(token, { client: fx.clients.a });
      expect(res.status).toBe(200);
      const other = await post(token, { client: fx.clients.b });
      expect([other.status, reason(other.body)]).toEqual([401, 'BINDING_MISMATCH']);
      const none = await post(token);
      expect([none.status, reason(none.body)]).toEqual([401, 'PROOF_MISSING']);
    });

    it('reads the clientCertificate field from a trusted caller only', async () => {
      const token = await fx.token(fx.clients.a);
      const field = { clientCertificate: fx.clients.a.pem };
      expect((await post(token, { body: field, headers: trusted })).status).toBe(200);
      const untrusted = await post(token, { body: field });
      expect([untrusted.status, reason(untrusted.body)]).toEqual([401, 'PROOF_MISSING']);
      // Dropped, the caller's own certificate decides: client b's is not the token's.
      const fallback = await post(token, { body: field, client: fx.clients.b });
      expect([fallback.status, reason(fallback.body)]).toEqual([401, 'BINDING_MISMATCH']);
      const wrongType = await curl(`${fx.app.url}/v1/resolve`, {
        ca: fx.pki.caCert,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token), ...trusted },
        body: JSON.stringify({ clientCertificate: 42 }),
      });
      expect([wrongType.status, reason(wrongType.body)]).toEqual([401, 'PROOF_INVALID']);
    });

    it('never answers a hostile forwarded header with a 5xx', async () => {
      const token = await fx.token(fx.clients.a);
      for (const value of ['"', 'Hash=', 'Cert="%"', `${'a=b;'.repeat(2_000)}c`, ',,,,']) {
        const res = await post(token, {
          headers: { ...trusted, 'x-forwarded-client-cert': value },
        });
        expect([value.slice(0, 10), res.status]).toEqual([value.slice(0, 10), 401]);
        expect(reason(res.body)).toBe('PROOF_INVALID');
      }
    });
  });
});
