import { All, Controller, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblemFilter } from '../http/http-problem.filter';
import { GatewayAuthorizer } from './gateway-authorizer';

/** Envoy's HTTP ext_authz honours this to strip client copies of headers it did not set. */
const ENVOY_HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

/** Request headers a gateway sets about the original request; logged, never decided on. */
const CONTEXT_HEADERS = {
  method: ['x-forwarded-method', 'x-original-method'],
  uri: ['x-forwarded-uri', 'x-original-uri'],
  host: ['x-forwarded-host'],
  proto: ['x-forwarded-proto'],
  client: ['x-forwarded-for'],
  request_id: ['x-request-id'],
} as const;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Forward-auth for Nginx `auth_request`, Traefik `ForwardAuth` and Envoy's HTTP ext_authz:
 * any method on `/v1/authz` or below it. 200 with the identity headers, or 401/403/503 with a
 * generic body; the token comes from `Authorization` only.
 */
@Controller('v1')
@UseFilters(HttpProblemFilter)
export class ForwardAuthController {
  constructor(private readonly authorizer: GatewayAuthorizer) {}

  @All(['authz', 'authz/*'])
  async authz(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const context: Record<string, string | undefined> = {};
    for (const [key, names] of Object.entries(CONTEXT_HEADERS))
      context[key] = names.map((n) => header(request, n)).find((v) => v !== undefined);
    const answer = await this.authorizer.authorize({
      authorization: header(request, 'authorization'),
      transport: 'forward_auth',
      context,
    });
    void reply.header('cache-control', 'no-store');
    if (answer.allowed) {
      if (answer.remove.length) void reply.header(ENVOY_HEADERS_TO_REMOVE, answer.remove.join(','));
      void reply.status(200).headers(answer.headers).send();
      return;
    }
    void reply
      .status(answer.status)
      .headers(answer.headers)
      .type('text/plain; charset=utf-8')
      .send(answer.body);
  }
}
