import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { type ChannelCredentials, credentials, Metadata } from '@grpc/grpc-js';
import { type CheckRequest, decodeErrorInfo } from '@resolver/contract';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { loadGrpcPackages } from '../support/grpc-packages';
import { type IssuedCertificate, TestPki } from '../support/certificates';
import { JwksServer } from '../support/jwks-server';
import { MtlsAuthorizationServer } from '../support/mtls-authorization-server';
import { ResolverHarness } from '../support/resolver-harness';

export const MTLS_AUDIENCE = 'api://mtls';
export const GATEWAY_SECRET = 'mtls-suite-gateway-secret-0123456789';

/** A client of the authorisation server: its certificate, PEM, and thumbprint by openssl's DER. */
export interface MtlsTestClient extends IssuedCertificate {
  readonly clientId: string;
  readonly pem: string;
  readonly x5t: string;
}

/**
 * What the certificate-bound suites share: a PKI, two clients with certificates, a real
 * authorisation server (oidc-provider) minting tokens bound to them, its public key served as a
 * JWKS, a database with the two clients as service accounts, and a resolver configured by the
 * suite.
 */
export class MtlsFixture {
  private constructor(
    readonly pki: TestPki,
    readonly as: MtlsAuthorizationServer,
    readonly idp: JwksServer,
    readonly clients: { readonly a: MtlsTestClient; readonly b: MtlsTestClient },
    readonly app: ResolverHarness,
  ) {}

  static async start(
    name: string,
    config: (pki: TestPki) => Promise<Record<string, Record<string, unknown>>>,
  ): Promise<MtlsFixture> {
    const pki = await TestPki.create(`${name} CA`);
    const client = async (clientId: string): Promise<MtlsTestClient> => {
      const issued = await pki.issue(clientId, {
        subject: `/CN=${clientId}/O=Binding Test`,
        usage: 'client',
        san: `DNS:${clientId}.example`,
      });
      const pem = await readFile(issued.cert, 'utf8');
      const der = new X509Certificate(pem).raw;
      return {
        ...issued,
        clientId,
        pem,
        x5t: createHash('sha256').update(der).digest('base64url'),
      };
    };
    const clients = { a: await client('client-a'), b: await client('client-b') };
    const as = await MtlsAuthorizationServer.start(
      pki,
      await pki.server('as'),
      Object.values(clients).map((c) => ({
        clientId: c.clientId,
        sanDns: `${c.clientId}.example`,
      })),
      MTLS_AUDIENCE,
    );
    const idp = await new JwksServer().start();
    const jwksUri = idp.publishJwks(name, [as.publicJwk]);
    const databaseUrl = await createTestDatabase(name);
    const app = await ResolverHarness.start({
      databaseUrl,
      issuers: [
        {
          issuer: as.issuer,
          jwksUri,
          audiences: [MTLS_AUDIENCE],
          algorithms: ['ES256'],
          serviceAccounts: { subEqualsClientId: true },
          binding: { mode: 'mtls' },
        },
      ],
      config: {
        authz: { exposeReasonHeader: true },
        ...(await config(pki)),
      },
      env: { GATEWAY_SECRET, ADMIN_TOKEN: 'mtls-suite-admin-token-0123456789' },
    });
    const db = sqlPool(databaseUrl);
    for (const c of Object.values(clients))
      await seedUser(db, as.issuer, { subject: c.clientId, kind: 'service', email: null });
    await db.end();
    return new MtlsFixture(pki, as, idp, clients, app);
  }

  /** A token from the authorisation server, bound to `client`'s certificate. */
  token(client: MtlsTestClient): Promise<string> {
    return this.as.accessToken(client.clientId, client);
  }

  async close(): Promise<void> {
    await this.app?.close();
    await this.as?.stop();
    await this.idp?.stop();
    await this.pki?.destroy();
  }
}

/** The claims of a compact JWT, unverified (what the suite checks the issuer put in). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One HTTP request from a chosen local address (127.0.0.2 is loopback too, but not a trusted
 * source): what an attacker elsewhere on the network would send.
 */
export function httpFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface GrpcAnswer {
  readonly ok: boolean;
  readonly code: number;
  readonly reason?: string;
  readonly response?: Record<string, any>;
}

function metadataOf(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/** identity.v1 ResolveSubject with every field and metadata the suite chooses (real grpc-js). */
export function resolveSubject(
  address: string,
  request: Record<string, string>,
  metadata: Record<string, string> = {},
  channel: ChannelCredentials = credentials.createInsecure(),
): Promise<GrpcAnswer> {
  const pkg = loadGrpcPackages();
  const client = new pkg.identity.v1.SubjectResolver(address, channel);
  return new Promise((resolve) => {
    client.ResolveSubject(request, metadataOf(metadata), (error, response) => {
      client.close();
      if (!error) return resolve({ ok: true, code: 0, response: response ?? {} });
      const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
      const info = Buffer.isBuffer(bin) ? decodeErrorInfo(bin) : undefined;
      resolve({ ok: false, code: error.code, reason: info?.reason });
    });
  });
}

/**
 * envoy.service.auth.v3 Check as Envoy sends it: the request headers it saw, and with
 * `include_peer_certificate` the client's certificate in `attributes.source.certificate`.
 * The answer's reason is in `status.message` (the suite's resolver exposes it).
 */
export function extAuthzCheck(
  address: string,
  request: { headers: Record<string, string>; sourceCertificate?: string },
  metadata: Record<string, string> = {},
): Promise<{ code: number; reason: string; httpStatus?: unknown }> {
  const pkg = loadGrpcPackages();
  const client = new pkg.envoy.service.auth.v3.Authorization(address, credentials.createInsecure());
  const check: CheckRequest = {
    attributes: {
      source: { principal: '', certificate: request.sourceCertificate ?? '' },
      destination: { service: 'ingress' },
      request: {
        http: {
          id: 'mtls-request',
          method: 'GET',
          headers: { ':authority': 'api.example.test', ':path': '/orders/42', ...request.headers },
          path: '/orders/42',
          host: 'api.example.test',
          scheme: 'https',
          protocol: 'HTTP/1.1',
        },
      },
    },
  };
  return new Promise((resolve, reject) => {
    client.Check(check, metadataOf(metadata), (error, response) => {
      client.close();
      if (error || !response) return reject(error ?? new Error('no response'));
      resolve({
        code: response.status?.code ?? -1,
        reason: response.status?.message ?? '',
        httpStatus: response.deniedResponse?.status?.code,
      });
    });
  });
}
