// A real authorisation server for the sender-binding suites: panva's oidc-provider (certified
// OpenID Provider), issuing DPoP-bound (RFC 9449) JWT access tokens for a resource indicator
// (RFC 8707) through the client-credentials grant. Run as a child process (oidc-provider is ESM
// only); it listens on 127.0.0.1 port 0 and prints one JSON line: its issuer and token endpoint.
// argv[2]: the resource (audience) the access tokens are for; argv[3]: the client id.
import { createServer } from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [resource = 'https://api.binding.test', clientId = 'dpop-client'] = process.argv.slice(2);

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'as-es256', alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [signing] },
  clients: [
    {
      client_id: clientId,
      client_secret: 'binding-suite-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      dpop_bound_access_tokens: true,
      id_token_signed_response_alg: 'ES256',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    introspection: { enabled: false },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'orders:read',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  scopes: ['orders:read'],
});
provider.proxy = false;
server.on('request', provider.callback());

process.stdout.write(
  `${JSON.stringify({ issuer, tokenEndpoint: `${issuer}/token`, jwksUri: `${issuer}/jwks` })}\n`,
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
