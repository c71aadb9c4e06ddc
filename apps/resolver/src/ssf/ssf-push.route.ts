import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { SsfReceiver } from '@resolver/provisioning';
import { isResolutionError, presentReason } from '@resolver/reasons';
import { isSetError, type SetErrorCode } from '@resolver/tokens';
import { HttpErrorPath } from '../shared/errors/http-error-path';
import { authenticatePush, SSF_PATHS, SSF_PUSH_PATH } from './ssf-push-auth';

/** RFC 8935 §2.3–2.4: each error code's status, in one place. */
const SET_ERROR_STATUS: Readonly<Record<SetErrorCode, 400 | 401 | 403>> = {
  invalid_request: 400,
  invalid_key: 400,
  invalid_issuer: 400,
  invalid_audience: 400,
  authentication_failed: 401,
  access_denied: 403,
};

const SET_MEDIA_TYPE = /^application\/secevent\+jwt\s*(;|$)/i;

/**
 * POST /ssf/push/<transmitter>: push delivery of Security Event Tokens (RFC 8935). The bearer
 * credential is checked in `onRequest`, before the body is read; the body is the SET itself
 * (`application/secevent+jwt`, at most `ssf.maxSetBytes`). 202 when the SET is accepted (applied,
 * or acknowledged: a replay, an unknown event type, a subject with no user); 400/401/403 with
 * `{"err", "description"}` when refused; 503 when the keys or the store cannot be reached (the
 * transmitter retries). A thin transport: one call of the receiver, which decides everything.
 */
@Injectable()
export class SsfPushRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receiver: SsfReceiver,
    private readonly errors: HttpErrorPath,
    @Inject(RESOLVER_CONFIG) private readonly config: ResolverConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const limit = this.config.ssf.maxSetBytes;
    if (!fastify.hasContentTypeParser('application/secevent+jwt'))
      fastify.addContentTypeParser(
        'application/secevent+jwt',
        { parseAs: 'string', bodyLimit: limit },
        (request, body, done) => {
          if (!SSF_PATHS.test(request.url))
            return done(
              Object.assign(new Error('application/secevent+jwt is accepted only under /ssf/'), {
                statusCode: 415,
              }),
              undefined,
            );
          done(null, body);
        },
      );
    const transmitters = this.config.ssf.transmitters;
    fastify.route({
      method: 'POST',
      url: SSF_PUSH_PATH,
      bodyLimit: limit,
      onRequest: (request, _reply, done) => {
        try {
          authenticatePush(transmitters, transmitterOf(request), request.headers.authorization);
        } catch (error) {
          return done(error as Error);
        }
        done();
      },
      handler: (request, reply) => this.push(request, reply),
      errorHandler: (error, request, reply) => this.refuse(error, request, reply),
    });
  }

  private async push(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const type = request.headers['content-type'];
    if (typeof type !== 'string' || !SET_MEDIA_TYPE.test(type) || typeof request.body !== 'string')
      return this.answer(
        reply,
        400,
        'invalid_request',
        'the body must be one SET as application/secevent+jwt',
      );
    const receipt = await this.receiver.receive(transmitterOf(request) ?? '', request.body.trim());
    if (!receipt.ok)
      return this.answer(reply, SET_ERROR_STATUS[receipt.err], receipt.err, receipt.description);
    await reply.code(202).header('cache-control', 'no-store').send();
  }

  private refuse(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    if (isSetError(error)) {
      if (error.code === 'authentication_failed')
        void reply.header('www-authenticate', 'Bearer realm="ssf"');
      return this.answer(reply, SET_ERROR_STATUS[error.code], error.code, error.description);
    }
    if (isResolutionError(error) && presentReason(error.reason).outcome === 'unavailable') {
      void reply.header('retry-after', String(presentReason(error.reason).retryAfterSeconds ?? 1));
      return this.answer(reply, 503, undefined, 'the receiver cannot process events now; retry');
    }
    // Fastify's own refusals of the request (media type, size, an empty body).
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return this.answer(reply, 400, 'invalid_request', (error as Error).message);
    this.errors.forRoute('http')(error, request, reply);
  }

  private answer(
    reply: FastifyReply,
    status: number,
    err: SetErrorCode | undefined,
    description: string,
  ): void {
    void reply
      .code(status)
      .header('content-type', 'application/json')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(err === undefined ? { description } : { err, description }));
  }
}

function transmitterOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const name = params && Object.hasOwn(params, 'transmitter') ? params.transmitter : undefined;
  return typeof name === 'string' ? name : undefined;
}
