import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RouteConfig } from '@nestjs/platform-fastify';
import { catchError, type Observable, tap, throwError } from 'rxjs';
import { RESOLVER_CONFIG, type ResolverConfig, type ScimClientConfig } from '@resolver/config';
import { ResolverMetrics } from '@resolver/observability';
import { findUnstorable, PROTOTYPE_KEYS } from '@resolver/identity';
import { authenticateClient, ScimError } from '@resolver/provisioning';
import { scimBaseUrl } from './scim-base-url';
import { classify } from '../shared/errors/failure';
import { scimResult } from '../shared/errors/scim-error-body';
import type { ScimRequest } from './scim-response';

const OPERATION = 'scim:operation';
/** The Fastify route config member with the operation (read before Nest runs: see ScimModule). */
export const SCIM_OPERATION = 'scimOperation';
/**
 * Names a SCIM route for `resolver_scim_requests_total{operation}` (e.g. `users.create`), for
 * the interceptor and, as Fastify route config, for the credential check that runs before it.
 */
export const ScimOperation = (name: string) =>
  applyDecorators(SetMetadata(OPERATION, name), RouteConfig({ [SCIM_OPERATION]: name }));

/**
 * Authenticates the SCIM client (its own bearer credential, not the admin one) before the
 * handler runs, works out the base URL its resources live under (see {@link scimBaseUrl}), and
 * counts every request by client, operation and result.
 */
@Injectable()
export class ScimClientInterceptor implements NestInterceptor {
  constructor(
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
    private readonly reflector: Reflector,
    private readonly metrics: ResolverMetrics,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const operation = this.reflector.get<string>(OPERATION, context.getHandler()) ?? 'unknown';
    const request = context.switchToHttp().getRequest<ScimRequest>();
    let client = 'unauthenticated';
    const count = (result: string) =>
      this.metrics.scimRequests.labels(client, operation, result).inc();
    let found: ScimClientConfig;
    try {
      found = authenticateClient(this.config.scim.clients, request.headers.authorization);
      client = found.id;
    } catch (error) {
      count('unauthorized');
      return throwError(() => error);
    }
    // What the store cannot hold is refused before any use case sees it, naming where it is.
    const unstorable = findUnstorable(request.body) ?? findUnstorable(request.query, 'query');
    if (unstorable) {
      const name = unstorable.path.split(/[.[]/).pop() ?? '';
      const error = ScimError.invalid(
        PROTOTYPE_KEYS.has(name) ? 'invalidSyntax' : 'invalidValue',
        `${unstorable.path || 'body'}: ${unstorable.problem}`,
      );
      count(error.scimType ?? '400');
      return throwError(() => error);
    }
    try {
      request.scimCaller = {
        client: found,
        baseUrl: scimBaseUrl(this.config.scim.publicBaseUrl, request),
      };
    } catch (error) {
      count(scimResult(classify(error)));
      return throwError(() => error);
    }
    return next.handle().pipe(
      tap(() => count('ok')),
      // Counted by the answer it will get; the one error path renders it (and counts a bug).
      catchError((error: unknown) => {
        count(scimResult(classify(error)));
        return throwError(() => error);
      }),
    );
  }
}
