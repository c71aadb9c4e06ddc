import { createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Metadata } from '@grpc/grpc-js';
import type { ForwardedCertificateConfig, ResolverConfig } from '@resolver/config';
import { ANONYMOUS, type Peer } from './caller-policy';
import { PEER } from './connection-guard';
import { addressOfGrpcPeer, ClientCertificates } from './client-certificates';
import type { TransportSecurity } from './transport-security';

const SECRET = 'gateway-shared-secret-0123456789';

/** A self-signed certificate from the openssl CLI (test only), and its x5t#S256 by Node. */
function certificate(cn: string): { pem: string; der: Buffer; x5t: string } {
  const pem = execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      '/dev/null',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
    ]),
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const der = new X509Certificate(pem).raw;
  return { pem, der, x5t: createHash('sha256').update(der).digest('base64url') };
}

let client: ReturnType<typeof certificate>;
let backend: ReturnType<typeof certificate>;
beforeAll(() => {
  client = certificate('client');
  backend = certificate('backend');
});

const gatewayCaller: Peer = {
  kind: 'caller',
  name: 'gateway',
  surfaces: new Set(['authz', 'forwarded-certificate']),
};
const backendCaller: Peer = { kind: 'caller', name: 'backend', surfaces: new Set(['resolve']) };

function certificates(
  forwarded: Partial<ForwardedCertificateConfig> | undefined,
  callers: { enforced: boolean; grpc?: Peer } = { enforced: false },
): ClientCertificates {
  const config = {
    binding: {
      forwardedCertificate: forwarded && {
        format: 'pem-url',
        header: 'x-client-cert',
        trustedSources: ['10.0.0.0/8'],
        secretHeader: 'x-gateway-secret',
        secretSha256: new Uint8Array(createHash('sha256').update(SECRET).digest()),
        ...forwarded,
      },
    },
  } as unknown as ResolverConfig;
  const security = {
    policy: { enforced: callers.enforced },
    grpcPeer: () => callers.grpc ?? ANONYMOUS,
  } as unknown as TransportSecurity;
  return new ClientCertificates(config, security);
}

/** A socket as the HTTP request sees it: address, the guard's peer, and a TLS certificate. */
function socket(
  remoteAddress: string,
  extra: { peer?: Peer; own?: Buffer; authorized?: boolean } = {},
): unknown {
  return {
    remoteAddress,
    [PEER]: extra.peer,
    authorized: extra.authorized ?? extra.own !== undefined,
    getPeerCertificate: () => (extra.own ? { raw: extra.own } : {}),
  };
}
const escaped = (pem: string) => encodeURIComponent(pem);
const found = (source: string, x5t: string) => ({
  certificate: { source, reading: { ok: true, thumbprint: x5t } },
});

describe('ClientCertificates, forward-auth', () => {
  it("reads the trusted gateway's header, never the gateway's own certificate", () => {
    const reader = certificates({});
    const headers = { 'x-client-cert': escaped(client.pem) };
    expect(reader.ofForwardAuth({ headers, socket: socket('10.1.2.3') })).toEqual(
      found('forwarded-header', client.x5t),
    );
    // The gateway's TLS certificate is the gateway's: without a header there is nothing.
    expect(
      reader.ofForwardAuth({ headers: {}, socket: socket('10.1.2.3', { own: backend.der }) }),
    ).toEqual({});
  });

  it('drops the header of an untrusted sender unread, and says so', () => {
    const reader = certificates({});
    const headers = { 'x-client-cert': escaped(client.pem) };
    expect(reader.ofForwardAuth({ headers, socket: socket('192.0.2.1') })).toEqual({
      certificateIgnored: 'forwarded-header',
    });
    expect(
      reader.ofForwardAuth({
        headers: { ...headers, 'x-gateway-secret': 'wrong-secret-wrong-secret-wrong' },
        socket: socket('192.0.2.1'),
      }),
    ).toEqual({ certificateIgnored: 'forwarded-header' });
  });

  it('believes the shared secret, and a TLS caller allowed to forward', () => {
    const headers = { 'x-client-cert': escaped(client.pem), 'x-gateway-secret': SECRET };
    expect(certificates({}).ofForwardAuth({ headers, socket: socket('192.0.2.1') })).toEqual(
      found('forwarded-header', client.x5t),
    );
    const viaCaller = certificates({ trustedSources: [] }, { enforced: true });
    const forwarded = { 'x-client-cert': escaped(client.pem) };
    expect(
      viaCaller.ofForwardAuth({
        headers: forwarded,
        socket: socket('192.0.2.1', { peer: gatewayCaller }),
      }),
    ).toEqual(found('forwarded-header', client.x5t));
    expect(
      viaCaller.ofForwardAuth({
        headers: forwarded,
        socket: socket('192.0.2.1', { peer: backendCaller }),
      }),
    ).toEqual({ certificateIgnored: 'forwarded-header' });
  });

  it('reads nothing when no forwarded certificate is configured', () => {
    const headers = { 'x-client-cert': escaped(client.pem), 'x-forwarded-client-cert': 'x' };
    expect(certificates(undefined).ofForwardAuth({ headers, socket: socket('10.0.0.1') })).toEqual(
      {},
    );
  });

  it('refuses two copies of the header rather than pick one', () => {
    const headers = { 'x-client-cert': [escaped(client.pem), escaped(backend.pem)] };
    expect(certificates({}).ofForwardAuth({ headers, socket: socket('10.0.0.1') })).toEqual({});
  });
});

describe('ClientCertificates, POST /v1/resolve', () => {
  it("uses the caller's own verified TLS certificate when nothing is forwarded", () => {
    const reader = certificates(undefined);
    expect(
      reader.ofResolveHttp(
        { headers: {}, socket: socket('192.0.2.1', { own: backend.der }) },
        undefined,
      ),
    ).toEqual(found('tls-peer', backend.x5t));
    // Not authorized (no verified certificate): none.
    expect(
      reader.ofResolveHttp(
        { headers: {}, socket: socket('192.0.2.1', { own: backend.der, authorized: false }) },
        undefined,
      ),
    ).toEqual({});
  });

  it("reads a connection's own certificate once, however many requests it carries", () => {
    const reader = certificates(undefined);
    let reads = 0;
    const connection = {
      remoteAddress: '192.0.2.1',
      authorized: true,
      getPeerCertificate: () => (reads++, { raw: backend.der }),
    };
    for (let i = 0; i < 3; i++)
      expect(reader.ofResolveHttp({ headers: {}, socket: connection }, undefined)).toEqual(
        found('tls-peer', backend.x5t),
      );
    expect(reads).toBe(1);
  });

  it('reads the field from a trusted sender, PEM or URL-encoded', () => {
    const reader = certificates({});
    const trusted = { headers: {}, socket: socket('10.0.0.9', { own: backend.der }) };
    expect(reader.ofResolveHttp(trusted, client.pem)).toEqual(found('request-field', client.x5t));
    expect(reader.ofResolveHttp(trusted, escaped(client.pem))).toEqual(
      found('request-field', client.x5t),
    );
    expect(reader.ofResolveHttp(trusted, 'garbage')).toEqual({
      certificate: { source: 'request-field', reading: { ok: false, refusal: 'not_pem' } },
    });
  });

  it("drops the field of an untrusted sender and falls back to the sender's own certificate", () => {
    const reader = certificates({});
    const untrusted = { headers: {}, socket: socket('192.0.2.1', { own: backend.der }) };
    expect(reader.ofResolveHttp(untrusted, client.pem)).toEqual({
      ...found('tls-peer', backend.x5t),
      certificateIgnored: 'request-field',
    });
  });
});

describe('ClientCertificates, gRPC', () => {
  const call = (peer: string, metadata = new Metadata(), own?: Buffer) => ({
    metadata,
    getPeer: () => peer,
    getAuthContext: () => ({ sslPeerCertificate: own ? ({ raw: own } as never) : undefined }),
  });

  it('ext_authz: believes source.certificate from a trusted Check caller only', () => {
    const reader = certificates({});
    const none = () => undefined;
    expect(reader.ofExtAuthz(call('10.0.0.1:5000'), escaped(client.pem), none)).toEqual(
      found('ext-authz-source', client.x5t),
    );
    expect(reader.ofExtAuthz(call('192.0.2.1:5000'), escaped(client.pem), none)).toEqual({
      certificateIgnored: 'ext-authz-source',
    });
    const metadata = new Metadata();
    metadata.set('x-gateway-secret', SECRET);
    expect(reader.ofExtAuthz(call('192.0.2.1:5000', metadata), escaped(client.pem), none)).toEqual(
      found('ext-authz-source', client.x5t),
    );
    expect(reader.ofExtAuthz(call('10.0.0.1:5000'), '', none)).toEqual({});
  });

  it('ext_authz: reads XFCC among the headers Envoy saw when there is no source.certificate', () => {
    const reader = certificates({ format: 'xfcc', header: 'x-forwarded-client-cert' });
    const hash = Buffer.from(client.x5t, 'base64url').toString('hex');
    const headers = (name: string) =>
      name === 'x-forwarded-client-cert' ? `By=spiffe://gw;Hash=${hash}` : undefined;
    expect(reader.ofExtAuthz(call('10.0.0.1:5000'), undefined, headers)).toEqual(
      found('forwarded-header', client.x5t),
    );
    expect(reader.ofExtAuthz(call('192.0.2.1:5000'), undefined, headers)).toEqual({
      certificateIgnored: 'forwarded-header',
    });
  });

  it("ResolveSubject: the field from a trusted caller, else the caller's own certificate", () => {
    const reader = certificates({});
    expect(reader.ofResolveGrpc(call('10.0.0.1:5000', undefined, backend.der), client.pem)).toEqual(
      found('request-field', client.x5t),
    );
    expect(
      reader.ofResolveGrpc(call('192.0.2.1:5000', undefined, backend.der), client.pem),
    ).toEqual({ ...found('tls-peer', backend.x5t), certificateIgnored: 'request-field' });
    expect(reader.ofResolveGrpc(call('192.0.2.1:5000', undefined, backend.der), undefined)).toEqual(
      found('tls-peer', backend.x5t),
    );
  });

  it('parses the addresses grpc-js prints', () => {
    expect(addressOfGrpcPeer('10.0.0.1:5000')).toBe('10.0.0.1');
    expect(addressOfGrpcPeer('[::1]:5000')).toBe('::1');
    expect(addressOfGrpcPeer('::ffff:10.0.0.1:5000')).toBe('::ffff:10.0.0.1');
    expect(addressOfGrpcPeer('unknown')).toBeUndefined();
  });
});
