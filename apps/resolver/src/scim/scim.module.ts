import {
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';

import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { ScimStore } from '@resolver/identity';
import {
  authenticateClient,
  ScimDiscovery,
  ScimError,
  ScimGroups,
  ScimUsers,
} from '@resolver/provisioning';
import { ResolverMetrics } from '@resolver/observability';
import { checkCredentialsFirst } from '../shared/credentials-first';
import { SCIM_OPERATION, ScimClientInterceptor } from './scim-client.interceptor';
import { toScimError } from './scim-error.filter';
import { scimAnswer, sendScimError } from './scim-response';
import { ScimDiscoveryController } from './scim-discovery.controller';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimUsersController } from './scim-users.controller';
import { answerUnrouted, SCIM_PREFIX } from './scim-routes';

const logger = new Logger('Scim');
/** The SCIM service provider's paths. */
const SCIM_PATHS = /^\/scim\/v2(\/|\?|$)/;

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
export class ScimModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly adapter: HttpAdapterHost,
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    metrics: ResolverMetrics,
  ) {
    // The client's credential before its body is read; the interceptor authenticates again and
    // counts every other outcome.
    checkCredentialsFirst(
      adapter.httpAdapter.getInstance<FastifyInstance>(),
      SCIM_PATHS,
      async (request, reply) => {
        try {
          authenticateClient(config.scim.clients, request.headers.authorization);
        } catch (error) {
          if (!(error instanceof ScimError)) throw error;
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
          sendScimError(reply, scimAnswer(error));
          return reply;
        }
      },
    );
  }

  /**
   * Body errors (too large, not JSON) happen before any route filter: answer them as SCIM errors
   * under /scim/v2, and leave every other path to the handler Nest installed (at bootstrap, after
   * the router registered its own).
   */
  onApplicationBootstrap(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    const previous = fastify.errorHandler;
    fastify.setErrorHandler(function (error, request, reply) {
      if (!request.url.startsWith('/scim/v2')) return previous.call(this, error, request, reply);
      sendScimError(reply, toScimError(error, logger));
    });
    // Unknown paths under /scim/v2 get a SCIM 404 too, and a known endpoint asked with another
    // method a 405 with Allow (a prefixed context has its own not-found handler).
    const clients = this.config.scim.clients;
    void fastify.register(
      (scoped, _options, done) => {
        scoped.setNotFoundHandler((request, reply) =>
          answerUnrouted(fastify, clients, request, reply),
        );
        done();
      },
      { prefix: SCIM_PREFIX },
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
