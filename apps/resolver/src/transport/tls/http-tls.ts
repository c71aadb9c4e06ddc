import type { IncomingHttpHeaders } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { HttpTlsConfig, ListenerTlsConfig, Surface, TlsMaterial } from '@resolver/config';
import type { TlsMetrics, TlsRefusal } from '@resolver/observability';
import { type CallerPolicy, FORWARDED_CERTIFICATE_HEADERS, type Peer } from './caller-policy';
import { peerOf } from './connection-guard';

/** The context options a reload replaces (`setSecureContext` takes all of them anew). */
export function secureContextOptions(
  material: TlsMaterial,
  listener: Pick<ListenerTlsConfig, 'minVersion'>,
): SecureContextOptions {
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: listener.minVersion,
  };
}

/**
 * Fastify's server options for a TLS listener: HTTPS, and HTTP/2 by ALPN next to HTTP/1.1 when
 * `http2` (nginx and Traefik speak 1.1 to an upstream, Envoy and browsers can pick h2). Client
 * certificates are asked for but never rejected by OpenSSL itself: the connection guard decides,
 * so that each refusal is counted with its reason.
 */
export function httpsServerOptions(config: HttpTlsConfig, material: TlsMaterial) {
  const https = {
    ...secureContextOptions(material, config),
    requestCert: config.clientCertificate !== 'none',
    rejectUnauthorized: false,
  };
  return config.http2 ? { http2: true as const, https: { ...https, allowHTTP1: true } } : { https };
}

/**
 * The surface of each route pattern, by prefix of the pattern Fastify matched (never of the raw
 * URL, which percent-encoding or dot segments could disguise). `open`: health, the assertion
 * JWKS, the OpenAPI document and the dev issuer, which anyone may read.
 */
const ROUTE_SURFACES: readonly (readonly [string, Surface | 'open'])[] = [
  ['/v1/resolve', 'resolve'],
  ['/v1/authz', 'authz'],
  ['/v1/diagnose', 'diagnose'],
  ['/admin', 'admin'],
  ['/scim/', 'scim'],
  ['/ssf/', 'ssf'],
  ['/console', 'console'],
  ['/metrics', 'metrics'],
  ['/health/', 'open'],
  ['/.well-known/', 'open'],
  ['/openapi.json', 'open'],
  ['/dev/', 'open'],
];

/**
 * The surface a route belongs to; `open` for no route at all (a 404 protects nothing);
 * `undefined` for a route nobody gave a surface, which the policy refuses to everyone.
 */
export function routeSurface(pattern: string | undefined): Surface | 'open' | undefined {
  if (pattern === undefined) return 'open';
  for (const [prefix, surface] of ROUTE_SURFACES) if (pattern.startsWith(prefix)) return surface;
  return undefined;
}

/** Whether a request carries a forwarded client-certificate header. */
export function forwardsCertificate(headers: IncomingHttpHeaders): boolean {
  for (const name of FORWARDED_CERTIFICATE_HEADERS) if (headers[name] !== undefined) return true;
  return false;
}

/** Why a request may not be served to its peer, or undefined. */
export function httpRefusal(
  policy: CallerPolicy,
  peer: Peer,
  pattern: string | undefined,
  headers: IncomingHttpHeaders,
): TlsRefusal | undefined {
  const surface = routeSurface(pattern);
  if (surface === 'open') return undefined;
  const refusal = policy.refusal(peer, surface);
  if (refusal) return refusal;
  if (forwardsCertificate(headers) && policy.refusal(peer, 'forwarded-certificate'))
    return 'forwarded_certificate_not_allowed';
  return undefined;
}

/** Fixed text per refusal: nothing from the request. */
export const REFUSAL_DETAIL: Readonly<Record<TlsRefusal, string>> = {
  handshake_failed: 'the TLS handshake failed',
  handshake_aborted: 'the TLS handshake did not finish',
  certificate_missing: 'a client certificate is required',
  certificate_expired: 'the client certificate has expired',
  certificate_not_yet_valid: 'the client certificate is not valid yet',
  certificate_untrusted: 'the client certificate is not issued by a trusted CA',
  certificate_invalid: 'the client certificate is not valid for this service',
  caller_anonymous: 'this endpoint is reserved to callers with a client certificate',
  caller_unknown: 'this client certificate is not a configured caller',
  caller_not_allowed: "this client certificate's caller may not use this endpoint",
  forwarded_certificate_not_allowed:
    "this client certificate's caller may not send forwarded client-certificate headers",
};

/**
 * Reserves the surfaces to their callers on the HTTP listener: one `onRequest` hook, added only
 * when callers are configured, that reads the peer the connection guard attached to the socket
 * (no certificate is parsed per request) and refuses with a 403 problem document.
 */
export function enforceHttpCallers(
  fastify: FastifyInstance,
  policy: CallerPolicy,
  metrics: TlsMetrics,
  domain: string,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const refusal = httpRefusal(
      policy,
      peerOf(request.raw.socket),
      request.routeOptions.url,
      request.headers,
    );
    if (!refusal) return done();
    metrics.refused('http', refusal);
    void reply
      .code(403)
      .header('content-type', 'application/problem+json')
      .header('cache-control', 'no-store')
      .send({
        type: `urn:${domain}:tls:${refusal}`,
        title: 'Forbidden',
        status: 403,
        detail: REFUSAL_DETAIL[refusal],
      });
  });
}
