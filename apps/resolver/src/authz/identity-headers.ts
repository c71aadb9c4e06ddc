import type { IdentityHeaderNames } from '@resolver/config';
import type { Resolution } from '@resolver/resolution';

/** Envoy's HTTP ext_authz honours this to strip client copies of headers it did not set. */
export const ENVOY_HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

/**
 * Header values are sent as they are when they are printable ASCII without `%`; any other byte
 * (non-ASCII, control characters) and `%` itself are UTF-8 percent-encoded, so a value can never
 * break the header framing and `decodeURIComponent` always restores it. Each role is encoded
 * the same way (a `,` inside a role too) and roles are joined with `,`.
 */
export function encodeHeaderValue(value: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(value) ? value : encodeAll(value);
}

function encodeAll(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    out +=
      code >= 0x20 && code <= 0x7e && char !== '%'
        ? char
        : Array.from(
            Buffer.from(char, 'utf8'),
            (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
          ).join('');
  }
  return out;
}

function encodeRoles(roles: readonly string[]): string {
  return roles.map((r) => encodeHeaderValue(r).replace(/,/g, '%2C')).join(',');
}

/** Every configured identity header name (lowercase), in a fixed order. */
export function identityHeaderNames(names: IdentityHeaderNames): string[] {
  return [names.userId, names.email, names.tenant, names.roles, names.kind];
}

/**
 * The identity headers for an allowed request: the principal's id, email, tenant, roles and
 * kind under the configured names. Empty values (no email, no tenant, no roles) are left out, so
 * the gateway removes any client copy instead of forwarding an empty header.
 */
export function identityHeaders(
  resolution: Resolution,
  names: IdentityHeaderNames,
): Record<string, string> {
  const { principal } = resolution;
  const headers: Record<string, string> = {};
  const put = (name: string, value: string) => {
    if (value !== '') headers[name] = value;
  };
  put(names.userId, encodeHeaderValue(principal.id));
  put(names.email, encodeHeaderValue(principal.email));
  put(names.tenant, encodeHeaderValue(principal.tenantId));
  put(names.roles, encodeRoles(principal.roles));
  put(names.kind, principal.kind);
  return headers;
}
