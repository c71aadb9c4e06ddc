/** Which entry point a resolution came through: a metric label and a log field. */
export type Transport = 'http' | 'grpc' | 'forward_auth' | 'ext_authz';
export const TRANSPORTS: readonly Transport[] = ['http', 'grpc', 'forward_auth', 'ext_authz'];

/**
 * Where an unexpected error can surface: every resolution transport, plus the operator surfaces
 * (diagnose over HTTP or gRPC, the admin API and the console's data) and SCIM. The `transport`
 * label of `resolver_internal_errors_total`.
 */
export type ErrorSurface = Transport | 'diagnose' | 'admin' | 'scim';
/** The surfaces every process serves, exported at zero from the start (SCIM adds its own). */
export const ERROR_SURFACES: readonly ErrorSurface[] = [...TRANSPORTS, 'diagnose', 'admin'];
