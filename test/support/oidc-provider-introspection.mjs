// A real authorisation server for the introspection suites: panva's oidc-provider (certified
// OpenID Provider) issuing OPAQUE access tokens by the client-credentials grant, with token
// introspection (RFC 7662) and revocation (RFC 7009) on. Run as a child process (oidc-provider
// is ESM only); it listens on 127.0.0.1 port 0 and prints one JSON line: its endpoints.
//
// argv[2] is JSON: { prefix, resource, shortResource, callers: [id], secret, rs: { basic, post,
// jwt } }: the token prefix (as GitHub's ghp_: the AS's own choice, so that a resolver can route
// by it), the resource the tokens are for (their aud; shortResource: tokens that live 2 s), the
// callers (client-credentials clients; each token's sub is its client id), and the resource
// server clients the resolver introspects as: client_secret_basic, client_secret_post and
// private_key_jwt (rs.jwt.jwk: its public key).
//
// Two things an operator of oidc-provider would configure, made here as such:
// - extraTokenClaims gives a client-credentials token `sub` = its client id (its JWT format does
//   that by itself; its introspection answer otherwise has no sub);
// - a jti in the introspection answer: oidc-provider's opaque token *is* its jti, so it leaves jti
//   out; this AS answers a stable identifier of the token instead (sha256 of it), as ASes whose
//   tokens have an id apart from their value do.
// GET /_introspections answers how many introspection requests arrived (the suites count calls).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] ?? '{}');
const { prefix = '', resource, shortResource, callers = [], secret, rs } = options;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'as-es256', alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const caller = (id) => ({
  client_id: id,
  client_secret: secret,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'ES256',
  introspection_signed_response_alg: 'ES256',
});
const resourceServer = (id, method, extra) => ({
  client_id: id,
  grant_types: [],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: method,
  id_token_signed_response_alg: 'ES256',
  // Signed introspection answers (RFC 9701) when asked for application/token-introspection+jwt.
  introspection_signed_response_alg: 'ES256',
  ...extra,
});

const provider = new Provider(issuer, {
  jwks: { keys: [signing] },
  clients: [
    ...callers.map(caller),
    resourceServer(rs.basic.id, 'client_secret_basic', { client_secret: rs.basic.secret }),
    resourceServer(rs.post.id, 'client_secret_post', { client_secret: rs.post.secret }),
    resourceServer(rs.jwt.id, 'private_key_jwt', {
      jwks: { keys: [rs.jwt.jwk] },
      token_endpoint_auth_signing_alg: 'ES256',
    }),
  ],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  extraTokenClaims: (_ctx, token) =>
    token.kind === 'ClientCredentials' ? { sub: token.clientId } : undefined,
  features: {
    clientCredentials: { enabled: true },
    // Only the resource servers may ask; each caller may revoke its own tokens.
    introspection: {
      enabled: true,
      allowedPolicy: (_ctx, client) => client.clientId.startsWith('rs-'),
    },
    jwtIntrospection: { enabled: true },
    revocation: {
      enabled: true,
      allowedPolicy: (_ctx, client, token) => client.clientId === token.clientId,
    },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource && indicator !== shortResource)
          throw new Provider.errors.InvalidTarget();
        return {
          scope: 'orders:read orders:write',
          audience: indicator,
          accessTokenTTL: indicator === shortResource ? 2 : 600,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
  scopes: ['orders:read', 'orders:write'],
});
provider.proxy = false;

// The AS's token prefix: every client-credentials token it mints starts with it.
const generate = provider.ClientCredentials.prototype.generateTokenId;
provider.ClientCredentials.prototype.generateTokenId = function generateTokenId() {
  return `${prefix}${generate.call(this)}`;
};

let introspections = 0;
provider.use(async (ctx, next) => {
  if (ctx.path === '/token/introspection') introspections++;
  await next();
  const token = ctx.oidc?.entities?.ClientCredentials;
  if (ctx.path === '/token/introspection' && ctx.body?.active === true && token) {
    ctx.body.jti = `at-${createHash('sha256').update(token.jti).digest('base64url').slice(0, 22)}`;
  }
});

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url === '/_introspections') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ introspections }));
    return;
  }
  callback(req, res);
});

process.stdout.write(
  `${JSON.stringify({
    issuer,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
  })}\n`,
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
