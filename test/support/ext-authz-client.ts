import { credentials, Metadata } from '@grpc/grpc-js';
import type { AuthorizationClient, CheckRequest } from '@resolver/contract';
import { loadGrpcPackages } from './grpc-packages';

/**
 * A real grpc-js client for envoy.service.auth.v3.Authorization, built from the shared proto
 * options. `check` sends a CheckRequest shaped as Envoy's ext_authz filter sends it.
 */
export class ExtAuthzClient {
  private readonly client: AuthorizationClient;

  constructor(address: string) {
    const pkg = loadGrpcPackages();
    this.client = new pkg.envoy.service.auth.v3.Authorization(
      address,
      credentials.createInsecure(),
    );
  }

  /** `headers`: lowercase keys, as Envoy puts them in AttributeContext.HttpRequest.headers. */
  check(
    headers: Record<string, string>,
    path = '/orders/42',
    request: { method?: string; host?: string; scheme?: string } = {},
    metadata: Record<string, string> = {},
  ): Promise<any> {
    const { method = 'GET', host = 'api.example.test', scheme = 'http' } = request;
    const meta = new Metadata();
    for (const [key, value] of Object.entries(metadata)) meta.set(key, value);
    const check: CheckRequest = {
      attributes: {
        source: { principal: '' },
        destination: { service: 'ingress' },
        request: {
          time: { seconds: 1_763_900_000, nanos: 0 },
          http: {
            id: '8f1c6d2e-request-id',
            method,
            headers: {
              ':authority': host,
              ':method': method,
              ':path': path,
              ':scheme': scheme,
              'user-agent': 'curl/8.5.0',
              'x-forwarded-proto': 'http',
              'x-request-id': '8f1c6d2e-request-id',
              ...headers,
            },
            path,
            host,
            scheme,
            protocol: 'HTTP/1.1',
          },
        },
      },
    };
    return new Promise((resolve, reject) =>
      this.client.Check(check, meta, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
