import type { Resolution, TokenInfo } from '@resolver/resolution';

function toTokenJson(t: TokenInfo) {
  return {
    issuer: t.issuer,
    subject: t.subject,
    audience: t.audience,
    expiresAt: t.expiresAt?.toISOString(),
    issuedAt: t.issuedAt?.toISOString(),
    jti: t.jti,
    scopes: t.scopes,
  };
}

/**
 * Resolution -> the proto-JSON shape of ResolveSubjectResponse (lowerCamelCase, RFC 3339 times).
 * Built for each answer the route writes: a repeated token's answer is written once and its JSON
 * kept by the route (resolve.route.ts), so nothing here is memoised.
 */
export function toResolutionJson(r: Resolution) {
  return { principal: r.principal, token: toTokenJson(r.token), source: r.source };
}
