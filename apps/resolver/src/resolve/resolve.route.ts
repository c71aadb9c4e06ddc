import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ResolveSubject } from '@resolver/resolution';
import { HttpErrorPath } from '../shared/errors/http-error-path';
import { RESOLUTION_RESPONSE_SCHEMA } from './resolution-schema';
import { toResolutionJson } from './resolution-json';

/**
 * POST /v1/resolve: the token from the body's `token` or the Authorization header.
 *
 * Registered on Fastify directly, not as a Nest controller: every gateway request passes here,
 * and on a warm request Nest's router (parameter decorators, pipes, interceptor and filter
 * chains) cost as much CPU as the resolution itself (`npm run bench`, README "Performance").
 * It is still a thin transport: it translates the request, calls the use case once, and maps
 * a failure through the one error path, like every other HTTP surface.
 */
@Injectable()
export class ResolveRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly resolver: ResolveSubject,
    private readonly errors: HttpErrorPath,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.route({
      method: 'POST',
      url: '/v1/resolve',
      schema: RESOLUTION_RESPONSE_SCHEMA,
      handler: (request) => this.resolve(request),
      errorHandler: this.errors.forRoute('http'),
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
        traceparent: request.headers.traceparent,
      }),
    );
  }
}
