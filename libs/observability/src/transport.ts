/** Which entry point a resolution came through: a metric label and a log field. */
export type Transport = 'http' | 'grpc' | 'forward_auth' | 'ext_authz';
export const TRANSPORTS: readonly Transport[] = ['http', 'grpc', 'forward_auth', 'ext_authz'];
