import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presentedFromFields, type Resolution, ResolveSubject } from '@resolver/resolution';
import { HttpErrorPath } from '../shared/errors/http-error-path';
import { ClientCertificates } from '../transport/tls/client-certificates';
import { RESOLUTION_RESPONSE_SCHEMA } from './resolution-schema';
import { toResolutionJson } from './resolution-json';

/**
 * POST /v1/resolve: the token from the body's `token` or the Authorization header; for a
 * sender-bound token, the request the caller received from the body's `dpopProof` (or the `DPoP`
 * header), `method`, `uri` and `clientCertificate`.
 *
 * Registered on Fastify directly, not as a Nest controller: every gateway request passes here,
 * and on a warm request Nest's router (parameter decorators, pipes, interceptor and filter
 * chains) cost as much CPU as the resolution itself (`npm run bench`, README "Performance").
 * It is still a thin transport: it translates the request, calls the use case once, and maps
 * a failure through the one error path, like every other HTTP surface.
 */
@Injectable()
export class ResolveRoute implements OnModuleInit {
  /**
   * A repeated token's answer as the route's serializer wrote it, by the answer's identity
   * (`answerFromMemory` gives one object per cached token and principal).
   */
  private readonly written = new WeakMap<Resolution, string>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly resolver: ResolveSubject,
    private readonly errors: HttpErrorPath,
    private readonly certificates: ClientCertificates,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.route({
      method: 'POST',
      url: '/v1/resolve',
      schema: RESOLUTION_RESPONSE_SCHEMA,
      handler: (request, reply) => this.resolve(request, reply),
      errorHandler: this.errors.forRoute('http'),
    });
  }

  /**
   * A repeated token of a cached user is answered at once, with no promise (Fastify sends a
   * handler's plain value), and with the JSON written for it the first time; anything else by
   * the full use case.
   */
  private resolve(request: FastifyRequest, reply: FastifyReply) {
    const body = request.body;
    const fields: BodyFields = typeof body === 'object' && body !== null ? body : {};
    const authorization = request.headers.authorization;
    const known = this.resolver.answerFromMemory({
      token: own(fields, 'token'),
      authorization,
      transport: 'http',
    });
    return known
      ? this.writtenAnswer(known, reply)
      : this.resolveFully(request, fields, authorization);
  }

  /**
   * The JSON of a warm answer, written once by the route's own serializer (the response schema's,
   * so exactly what it writes for the object) and then sent as it is: Fastify sends a string
   * whose content type says JSON without serializing it again.
   */
  private writtenAnswer(known: Resolution, reply: FastifyReply) {
    let json = this.written.get(known);
    if (json === undefined) {
      const answer = toResolutionJson(known);
      const written = reply.serialize(answer);
      // The schema's serializer writes a string; anything else is left to Fastify, as before.
      if (typeof written !== 'string') return answer;
      this.written.set(known, (json = written));
    }
    reply.type(JSON_TYPE);
    return json;
  }

  private async resolveFully(
    request: FastifyRequest,
    fields: BodyFields,
    authorization: string | undefined,
  ) {
    return toResolutionJson(
      await this.resolver.resolve({
        token: own(fields, 'token'),
        authorization,
        transport: 'http',
        requestId: request.id,
        traceparent: request.headers.traceparent,
        // Read only for a sender-bound token: the request the backend received, as it says.
        presented: () => {
          const presented = presentedFromFields(
            {
              dpopProof: own(fields, 'dpopProof'),
              method: own(fields, 'method'),
              uri: own(fields, 'uri'),
              clientCertificate: own(fields, 'clientCertificate'),
            },
            header(request, 'dpop'),
          );
          const input = { headers: request.headers, socket: request.raw.socket };
          return {
            ...presented,
            ...this.certificates.ofResolveHttp(input, presented.clientCertificate),
          };
        },
      }),
    );
  }
}

/** The content type Fastify gives a serialized JSON answer. */
const JSON_TYPE = 'application/json; charset=utf-8';

type BodyFields = object;

/** A body member as an own property only. */
function own(fields: BodyFields, name: string): unknown {
  return Object.hasOwn(fields, name) ? (fields as Record<string, unknown>)[name] : undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
