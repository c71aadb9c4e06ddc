import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { InternalErrors } from '@resolver/observability';
import { ResolveSubject } from '@resolver/resolution';
import { routeErrorHandler } from '../transport/problem';
import { RESOLUTION_RESPONSE_SCHEMA } from './resolution-schema';
import { toResolutionJson } from './resolution-json';

/**
 * POST /v1/resolve: the token from the body's `token` or the Authorization header.
 *
 * Registered on Fastify directly, not as a Nest controller: every gateway request passes here,
 * and on a warm request Nest's router (parameter decorators, pipes, interceptor and filter
 * chains) cost as much CPU as the resolution itself (`npm run bench`, README "Performance").
 * It is still a thin transport: it translates the request, calls the use case once, and maps
 * a failure through the same problem documents as every other HTTP surface.
 */
@Injectable()
export class ResolveRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly resolver: ResolveSubject,
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly internalErrors: InternalErrors,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.route({
      method: 'POST',
      url: '/v1/resolve',
      schema: RESOLUTION_RESPONSE_SCHEMA,
      handler: (request) => this.resolve(request),
      errorHandler: routeErrorHandler('http', this.config.domain, this.internalErrors),
    });
  }

  private async resolve(request: FastifyRequest) {
    const body = request.body;
    const token =
      typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    const authorization = request.headers.authorization;
    return toResolutionJson(
      await this.resolver.resolve({
        token,
        authorization,
        transport: 'http',
        requestId: request.id,
      }),
    );
  }
}
