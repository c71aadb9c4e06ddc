import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presentedFromForwardedHeaders } from '@resolver/resolution';
import { HttpErrorPath } from '../shared/errors/http-error-path';
import { HTTP_METHODS } from '../shared/http-methods';
import { throwLaneFault } from '../transport/lane-fault';
import { ClientCertificates } from '../transport/tls/client-certificates';
import { GatewayAuthorizer } from './gateway-authorizer';
import { ENVOY_HEADERS_TO_REMOVE } from './identity-headers';

/** Request headers a gateway sets about the original request; logged, never decided on. */
const CONTEXT_HEADERS = {
  method: ['x-forwarded-method', 'x-original-method'],
  uri: ['x-forwarded-uri', 'x-original-uri', 'x-original-url'],
  host: ['x-forwarded-host'],
  proto: ['x-forwarded-proto'],
  client: ['x-forwarded-for'],
  request_id: ['x-request-id'],
} as const;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every copy of a header joined (two DPoP headers must be seen as two, and refused). */
function allOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** What the gateway said about the original request: read only for a failure's log line. */
function gatewayContext(request: FastifyRequest): Record<string, string | undefined> {
  const context: Record<string, string | undefined> = {};
  for (const [key, names] of Object.entries(CONTEXT_HEADERS))
    context[key] = names.map((n) => header(request, n)).find((v) => v !== undefined);
  return context;
}

/**
 * Forward-auth for Nginx `auth_request`, Traefik `ForwardAuth` and Envoy's HTTP ext_authz:
 * any method on `/v1/authz` or below it. 200 with the identity headers, or 401/403/503 with a
 * generic body; the token comes from `Authorization` only.
 *
 * Registered on Fastify directly, like `/v1/resolve` and for the same reason: every gateway
 * request passes here, and Nest's router cost more than the warm answer itself (the bench's warm
 * `/v1/authz` was 0.71 of bare Fastify as a Nest controller). Still a thin transport: it
 * translates, asks the {@link GatewayAuthorizer} once, and fails through the one error path.
 * On a plaintext listener the lane (forward-auth-lane.ts) answers the repeated tokens of cached
 * users before a request reaches Fastify; this route answers the rest (and all of them where the
 * lane is not installed: TLS, tracing).
 */
@Injectable()
export class ForwardAuthRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authorizer: GatewayAuthorizer,
    private readonly errors: HttpErrorPath,
    private readonly certificates: ClientCertificates,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    for (const url of ['/v1/authz', '/v1/authz/*']) {
      fastify.route({
        method: HTTP_METHODS,
        url,
        handler: (request, reply) => this.authz(request, reply),
        errorHandler: this.errors.forRoute('forward_auth'),
      });
    }
  }

  private async authz(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    throwLaneFault(request.raw);
    const answer = await this.authorizer.authorize({
      authorization: header(request, 'authorization'),
      transport: 'forward_auth',
      context: () => gatewayContext(request),
      requestId: request.id,
      traceparent: request.headers.traceparent,
      // Read only for a sender-bound token: the original request as the gateway forwarded it.
      // The client certificate only as the gateway forwarded it: the TLS peer is the gateway.
      presented: () => ({
        ...presentedFromForwardedHeaders((name) => allOf(request, name)),
        ...this.certificates.ofForwardAuth({
          headers: request.headers,
          socket: request.raw.socket,
        }),
      }),
    });
    void reply.header('cache-control', 'no-store');
    if (answer.allowed) {
      if (answer.removeList) void reply.header(ENVOY_HEADERS_TO_REMOVE, answer.removeList);
      return reply.status(200).headers(answer.headers).send();
    }
    return reply
      .status(answer.status)
      .headers(answer.headers)
      .type('text/plain; charset=utf-8')
      .send(answer.body);
  }
}
