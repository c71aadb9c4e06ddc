import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { REQUEST_ID_HEADER, requestIdFrom } from '@resolver/observability';
import { HTTP_METHODS } from '../shared/http-methods';
import { carryLaneFault } from '../transport/lane-fault';
import { type GatewayAnswer, GatewayAuthorizer } from './gateway-authorizer';
import { ENVOY_HEADERS_TO_REMOVE } from './identity-headers';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;
type Allowed = GatewayAnswer & { allowed: true };

/** `/v1/authz`, `/v1/authz/<path>` or either with a query: printable ASCII, no `%` (see below). */
const LANE_TARGET = /^\/v1\/authz(?:[/?][\x21-\x24\x26-\x7e]*)?$/;
const LANE_METHODS = new Set<string>(HTTP_METHODS);

/**
 * Whether a request may take the lane: a method and target the forward-auth routes answer
 * exactly as the lane would (the two routes, any query), and no request body. A target with
 * `%` or with bytes the router might reject or decode is left to Fastify, which answers it as
 * it always has; so is any request with a body (Fastify bounds and refuses it).
 */
export function takesLane(
  method: string | undefined,
  url: string,
  headers: IncomingMessage['headers'],
): boolean {
  return (
    method !== undefined &&
    LANE_METHODS.has(method) &&
    LANE_TARGET.test(url) &&
    headers['transfer-encoding'] === undefined &&
    (headers['content-length'] === undefined || headers['content-length'] === '0')
  );
}

/**
 * The forward-auth answer for a repeated token of a cached user, below the framework.
 *
 * Every gateway request passes `/v1/authz`, and nearly all carry a token the resolver has seen,
 * whose user is cached. For those, the answer is made in memory with no promise
 * ({@link GatewayAuthorizer.answerFromMemory}), and what the framework adds around it was most
 * of what the request cost: Nest's four `onRequest` hooks and one `onResponse` hook (CORS,
 * routable-target and version checks, none of which the route uses), Fastify's routing, request
 * and reply objects, and the `onSend` hook that echoes the request id (the bench's warm
 * `/v1/authz` was 0.63–0.74 of a bare Fastify handler; docs/performance.md). The lane answers
 * such a request on Node's HTTP server directly, with the same status and headers the route
 * sends (held equal by test/forward-auth-lane.e2e-spec.ts).
 *
 * It decides nothing: the use case decides, and anything it does not answer from memory — a new
 * or bound token, any refusal, tracing on — goes to the Fastify route, as does every request
 * {@link takesLane} does not admit and every request once shutdown has begun (the route's
 * answers then close their connections). The lane is installed only on a plaintext HTTP
 * listener without caller checks (resolver-app.ts): with TLS callers configured, every request
 * passes the caller check in Fastify's `onRequest`.
 */
@Injectable()
export class ForwardAuthLane {
  /** Each shared answer's response headers, flattened once (the answer is kept per principal). */
  private readonly headerLists = new WeakMap<Allowed, readonly string[]>();

  constructor(private readonly authorizer: GatewayAuthorizer) {}

  /**
   * Puts the lane in front of `server`'s request listener (Fastify's), which answers every
   * request the lane does not. `closing` is true once shutdown has begun.
   */
  install(server: Server, closing: () => boolean): void {
    const listeners = server.listeners('request') as Listener[];
    if (listeners.length !== 1) return; // not the server Fastify made: leave it alone
    const [framework] = listeners as [Listener];
    server.removeListener('request', framework);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      try {
        if (!closing() && this.answer(request, response)) return;
      } catch (error) {
        // A bug in the lane never reaches the process: the route reports it through the one
        // error path (lane-fault.ts), counted once, as its own failure would be.
        if (response.headersSent) return void response.destroy();
        carryLaneFault(request, error);
      }
      framework(request, response);
    });
  }

  /** Answers `request` when it takes the lane and the use case answers it from memory. */
  answer(request: IncomingMessage, response: ServerResponse): boolean {
    if (!takesLane(request.method, request.url ?? '', request.headers)) return false;
    const authorization = request.headers.authorization;
    const known = this.authorizer.answerFromMemory({ authorization, transport: 'forward_auth' });
    if (!known) return false;
    const headers = this.headersOf(known).slice();
    headers.push(REQUEST_ID_HEADER, requestIdFrom(request.headers[REQUEST_ID_HEADER]));
    response.writeHead(200, headers);
    response.end();
    return true;
  }

  /** The route's allowed answer, header for header (forward-auth.route.ts), but the request id. */
  private headersOf(known: Allowed): readonly string[] {
    let list = this.headerLists.get(known);
    if (!list) {
      const built = ['cache-control', 'no-store'];
      if (known.removeList) built.push(ENVOY_HEADERS_TO_REMOVE, known.removeList);
      for (const [name, value] of Object.entries(known.headers)) built.push(name, value);
      built.push('content-length', '0');
      this.headerLists.set(known, (list = built));
    }
    return list;
  }
}
