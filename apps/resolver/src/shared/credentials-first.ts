import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Answers a request that lacks the credential (and returns the reply), or lets it through. */
export type CredentialCheck = (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>;

/**
 * Credentials are checked before a body is read: `hook` becomes an `onRequest` hook of every
 * route whose path matches `paths`, added as each route is registered, so a request without the
 * credential is answered before Fastify reads or parses its body (an anonymous 8 MiB import body
 * costs nothing). Call it while the app is being built (a module's constructor): routes are
 * registered after. The feature's guard or interceptor still runs behind it, so a route the
 * pattern misses is refused all the same, only after its body was read.
 */
export function checkCredentialsFirst(
  fastify: FastifyInstance,
  paths: RegExp,
  hook: CredentialCheck,
): void {
  fastify.addHook('onRoute', (route) => {
    if (!paths.test(route.url)) return;
    const existing = route.onRequest;
    route.onRequest = [...(Array.isArray(existing) ? existing : existing ? [existing] : []), hook];
  });
}
