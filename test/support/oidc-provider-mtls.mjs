// A real authorisation server for the certificate-bound token suites: panva's oidc-provider
// (ESM only, hence its own process), serving HTTPS on 127.0.0.1 with client certificates asked
// for. Clients authenticate at the token endpoint with their certificate (RFC 8705 §2.1,
// tls_client_auth, by DNS SAN) and get JWT access tokens bound to it (cnf["x5t#S256"], §3),
// for the resource (RFC 8707) the suite names. Options come as JSON in MTLS_AS_OPTIONS; the
// issuer URL is printed as one JSON line once it listens.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Provider from 'oidc-provider';

const options = JSON.parse(process.env.MTLS_AS_OPTIONS ?? '{}');

const server = createServer({
  cert: readFileSync(options.cert),
  key: readFileSync(options.key),
  ca: readFileSync(options.ca),
  requestCert: true,
  // The provider decides (certificateAuthorized): a token request without a certificate gets
  // an OAuth error, not a reset.
  rejectUnauthorized: false,
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

const peerCertificate = (ctx) => {
  const cert = ctx.socket.getPeerCertificate?.();
  return cert && cert.raw ? cert : undefined;
};

const provider = new Provider(issuer, {
  clients: options.clients.map((client) => ({
    client_id: client.clientId,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_san_dns: client.sanDns,
    tls_client_certificate_bound_access_tokens: true,
    id_token_signed_response_alg: 'ES256',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  })),
  jwks: { keys: [options.signingJwk] },
  clientAuthMethods: ['tls_client_auth'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      getCertificate: (ctx) => {
        const cert = peerCertificate(ctx);
        return cert ? new X509Certificate(cert.raw) : undefined;
      },
      certificateAuthorized: (ctx) => ctx.socket.authorized === true,
      certificateSubjectMatches: (ctx, property, expected) =>
        property === 'tls_client_auth_san_dns' &&
        (peerCertificate(ctx)?.subjectaltname ?? '').split(', ').includes(`DNS:${expected}`),
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => options.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        audience: resource,
        scope: 'read',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  ttl: { ClientCredentials: 600 },
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
