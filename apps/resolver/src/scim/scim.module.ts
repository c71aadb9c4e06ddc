import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { ScimStore } from '@resolver/identity';
import { authenticateClient, ScimDiscovery, ScimGroups, ScimUsers } from '@resolver/provisioning';
import { ResolverMetrics } from '@resolver/observability';
import { checkCredentialsFirst } from '../shared/credentials-first';
import { SCIM_PATHS } from '../transport/error-surface';
import { SCIM_OPERATION, ScimClientInterceptor } from './scim-client.interceptor';
import { ScimDiscoveryController } from './scim-discovery.controller';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimUsersController } from './scim-users.controller';

/**
 * The SCIM 2.0 service provider at /scim/v2 (RFC 7643/7644), on the main HTTP port. Imported by
 * the app module only when `scim.clients` is configured: otherwise the routes do not exist.
 */
@Module({
  providers: [
    ScimClientInterceptor,
    {
      provide: ScimUsers,
      inject: [ScimStore, RESOLVER_CONFIG],
      useFactory: (store: ScimStore, config: ResolverConfig) => new ScimUsers(store, config.scim),
    },
    {
      provide: ScimGroups,
      inject: [ScimStore, RESOLVER_CONFIG],
      useFactory: (store: ScimStore, config: ResolverConfig) => new ScimGroups(store, config.scim),
    },
    {
      provide: ScimDiscovery,
      inject: [RESOLVER_CONFIG],
      useFactory: (config: ResolverConfig) => new ScimDiscovery(config.scim),
    },
  ],
  // Discovery first: its fixed paths must not be taken for a resource id.
  controllers: [ScimDiscoveryController, ScimUsersController, ScimGroupsController],
})
export class ScimModule implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    metrics: ResolverMetrics,
  ) {
    // SCIM bugs are counted on a surface of their own, exported at zero like the others.
    metrics.internalErrors.labels('scim').inc(0);
    // The client's credential before its body is read; the interceptor authenticates again and
    // counts every other outcome. The refusal (a ScimError) is answered by the one error path,
    // as a SCIM 401; every other SCIM failure, body errors and unknown endpoints included, too.
    checkCredentialsFirst(
      adapter.httpAdapter.getInstance<FastifyInstance>(),
      SCIM_PATHS,
      (request) => {
        try {
          authenticateClient(config.scim.clients, request.headers.authorization);
        } catch (error) {
          const operation = (request.routeOptions.config as unknown as Record<string, unknown>)[
            SCIM_OPERATION
          ];
          metrics.scimRequests
            .labels(
              'unauthenticated',
              typeof operation === 'string' ? operation : 'unknown',
              'unauthorized',
            )
            .inc();
          throw error;
        }
      },
    );
  }

  /**
   * IdPs send application/scim+json (RFC 7644 §3.1): parsed by Fastify's own JSON parser, with
   * its prototype-poisoning guard (a `__proto__` or `constructor` member is a 400), within the
   * body limit, and only under /scim/v2: elsewhere the type is 415, so no other route parses a
   * body through this parser.
   */
  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    if (fastify.hasContentTypeParser('application/scim+json')) return;
    const json = fastify.getDefaultJsonParser('error', 'error');
    fastify.addContentTypeParser(
      'application/scim+json',
      { parseAs: 'string', bodyLimit: this.config.http.bodyLimitBytes },
      (request, body, done) => {
        if (!SCIM_PATHS.test(request.url))
          return done(
            Object.assign(new Error('application/scim+json is accepted only under /scim/v2'), {
              statusCode: 415,
            }),
            undefined,
          );
        if (body === '') return done(null, undefined);
        void json(request, body as string, done);
      },
    );
  }
}
