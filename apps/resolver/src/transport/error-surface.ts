import type { ErrorSurface } from '@resolver/observability';

/** The SCIM service provider's paths. */
export const SCIM_PATHS = /^\/scim\/v2(\/|\?|$)/;

/**
 * Which surface an HTTP request belongs to, for the one error path: its renderer and the label
 * a bug is counted under. SCIM by its path prefix (when SCIM is served: a request no route took
 * is SCIM's too), the operator surfaces by their route; anything else counts as `http`. The
 * direct Fastify routes (/v1/resolve, /v1/authz) name their surface themselves.
 */
export function httpSurface(
  url: string,
  routeUrl: string | undefined,
  scimServed: boolean,
): ErrorSurface {
  if (scimServed && SCIM_PATHS.test(url)) return 'scim';
  if (!routeUrl) return 'http';
  if (routeUrl === '/v1/diagnose') return 'diagnose';
  // The admin API and the console's data, behind the same credential.
  if (routeUrl.startsWith('/admin/') || routeUrl.startsWith('/console/api/')) return 'admin';
  return 'http';
}

/** Which surface a gRPC method (`/package.Service/Method`) belongs to. */
export function grpcSurface(path: string | undefined): ErrorSurface {
  if (path === '/envoy.service.auth.v3.Authorization/Check') return 'ext_authz';
  if (path === '/identity.v1.SubjectResolver/DiagnoseSubject') return 'diagnose';
  return 'grpc';
}
