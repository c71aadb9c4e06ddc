import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { HTTP_METHODS } from '../http-methods';

/** A route's URL (`/scim/v2/Users/:id`, `/v1/authz/*`) as a matcher of request paths. */
function matcher(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) =>
      part === '*'
        ? '.*'
        : part.startsWith(':')
          ? '[^/]+'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Which methods a request path has, for the answer to a request no route took: a 405 naming
 * them (`Allow`, RFC 9110 §15.5.6), or a 404 when there are none. Read from the routes Fastify
 * holds, parametric ones included (`/scim/v2/Users/<id>`), so the answer follows the
 * controllers. Built as the app is (an `onRoute` hook: routes are registered after), and asked
 * only for unknown requests.
 */
@Injectable()
export class RouteTable {
  private readonly routes = new Map<string, RegExp>();
  private readonly fastify: FastifyInstance;

  constructor(adapter: HttpAdapterHost) {
    this.fastify = adapter.httpAdapter.getInstance<FastifyInstance>();
    this.fastify.addHook('onRoute', ({ url }) => {
      if (!this.routes.has(url)) this.routes.set(url, matcher(url));
    });
  }

  /** The methods served at `url`'s path (its query ignored), in `Allow` order. */
  methodsAt(url: string): HTTPMethods[] {
    const path = url.split('?', 1)[0] ?? url;
    const routes = [...this.routes].filter(([, m]) => m.test(path)).map(([route]) => route);
    return HTTP_METHODS.filter((method) =>
      routes.some((route) => this.fastify.hasRoute({ url: route, method })),
    );
  }
}
