import { ScimError } from '@resolver/provisioning';

/** The request as the base URL needs it. */
export interface BaseUrlRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The scheme of the connection itself (`http` or `https`). */
  readonly protocol: string;
}

// host[:port] and nothing else: a DNS name (letters, digits, hyphens, dots), an IPv4 address or
// a bracketed IPv6 literal, and a port of up to five digits. No path, userinfo, scheme or space.
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/**
 * The base URL SCIM resources live under (`Location`, `meta.location`, discovery's own URLs).
 * With `scim.publicBaseUrl` configured, that and nothing the request says. Without it, the
 * request's Host — only when it is a host[:port], else 400 (RFC 9112 §3.2: a request with an
 * invalid Host is a bad request) — and its scheme: X-Forwarded-Proto only when it is exactly
 * `http` or `https` (one value: a list may start with what the client itself sent), else the
 * connection's own.
 */
export function scimBaseUrl(publicBaseUrl: string | undefined, request: BaseUrlRequest): string {
  if (publicBaseUrl !== undefined) return publicBaseUrl;
  const host = request.headers.host;
  if (typeof host !== 'string' || !HOST.test(host) || Number(host.split(':').pop()) > 65_535)
    throw ScimError.invalid(
      'invalidValue',
      'Host: not a host[:port]; set scim.publicBaseUrl to the URL IdPs reach this service at',
    );
  const forwarded = request.headers['x-forwarded-proto'];
  const scheme =
    forwarded === 'http' || forwarded === 'https'
      ? forwarded
      : request.protocol === 'https'
        ? 'https'
        : 'http';
  return `${scheme}://${host}/scim/v2`;
}
