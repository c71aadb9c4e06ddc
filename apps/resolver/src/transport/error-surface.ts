import type { ErrorSurface } from '@resolver/observability';

/**
 * Which surface an HTTP route belongs to, for the shared error handlers (one filter serves the
 * admin API and diagnose; the route says which). Unknown routes count as `http`; the direct
 * Fastify routes (/v1/resolve, /v1/authz) name their surface themselves (`routeErrorHandler`).
 */
export function httpSurface(routeUrl: string | undefined): ErrorSurface {
  if (!routeUrl) return 'http';
  if (routeUrl === '/v1/diagnose') return 'diagnose';
  if (routeUrl.startsWith('/admin/')) return 'admin';
  return 'http';
}

/** Which surface a gRPC method (`/package.Service/Method`) belongs to. */
export function grpcSurface(path: string | undefined): ErrorSurface {
  if (path === '/envoy.service.auth.v3.Authorization/Check') return 'ext_authz';
  if (path === '/identity.v1.SubjectResolver/DiagnoseSubject') return 'diagnose';
  return 'grpc';
}
