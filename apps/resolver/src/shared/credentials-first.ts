import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Throws the surface's own refusal for a request that lacks the credential. */
export type CredentialCheck = (request: FastifyRequest) => void;

/**
 * Credentials are checked before a body is read: `check` becomes an `onRequest` hook of every
 * route whose path matches `paths`, added as each route is registered, so a request without the
 * credential is refused before Fastify reads or parses its body (an anonymous 8 MiB import body
 * costs nothing). What the check throws is answered by the one error path, in the surface's own
 * shape (problem+json with the admin challenge, or a SCIM 401). Call it while the app is being
 * built (a module's constructor): routes are registered after. The feature's guard or
 * interceptor still runs behind it, so a route the pattern misses is refused all the same, only
 * after its body was read.
 */
export function checkCredentialsFirst(
  fastify: FastifyInstance,
  paths: RegExp,
  check: CredentialCheck,
): void {
  fastify.addHook('onRoute', (route) => {
    if (!paths.test(route.url)) return;
    const existing = route.onRequest;
    route.onRequest = [
      ...(Array.isArray(existing) ? existing : existing ? [existing] : []),
      (request, _reply, done) => {
        try {
          check(request);
        } catch (error) {
          return done(error as Error);
        }
        done();
      },
    ];
  });
}
