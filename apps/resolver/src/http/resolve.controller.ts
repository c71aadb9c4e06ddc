import { Body, Controller, Headers, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ResolveSubject } from '@resolver/resolution';
import { RouteSchema } from '@nestjs/platform-fastify';
import { HttpProblemFilter } from './http-problem.filter';
import { RESOLUTION_RESPONSE_SCHEMA } from './resolution-schema';
import { toResolutionJson } from './resolution-json';

/** POST /v1/resolve: the token from the body's `token` or the Authorization header. */
@Controller('v1')
@UseFilters(HttpProblemFilter)
export class ResolveController {
  constructor(private readonly resolver: ResolveSubject) {}

  @Post('resolve')
  @HttpCode(200)
  @RouteSchema(RESOLUTION_RESPONSE_SCHEMA)
  async resolve(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Headers('authorization') authorization?: string,
  ) {
    const token =
      typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
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
