import type { Resolution } from '@resolver/resolution';

/** Resolution -> the proto-JSON shape of ResolveSubjectResponse (lowerCamelCase, RFC 3339 times). */
export function toResolutionJson(r: Resolution) {
  return {
    principal: r.principal,
    token: {
      issuer: r.token.issuer,
      subject: r.token.subject,
      audience: r.token.audience,
      expiresAt: r.token.expiresAt?.toISOString(),
      issuedAt: r.token.issuedAt?.toISOString(),
      jti: r.token.jti,
      scopes: r.token.scopes,
    },
    source: r.source,
  };
}
