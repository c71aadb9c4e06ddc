import type { Resolution, TokenInfo } from '@resolver/resolution';

type TokenJson = ReturnType<typeof toTokenJson>;

/**
 * Token infos come from the verified-token cache and are immutable, so each one's JSON (with
 * its RFC 3339 times) is built once, not on every warm request.
 */
const tokenJson = new WeakMap<TokenInfo, TokenJson>();

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
 * `repeated`: the token was answered from memory, so it is seen again; its JSON is kept. A token
 * seen for the first time may never come back (a flood of new tokens): its JSON is not kept in
 * the WeakMap, where each new key is more work for every major GC.
 */
export function toResolutionJson(r: Resolution, repeated: boolean) {
  let token = tokenJson.get(r.token);
  if (!token) {
    token = toTokenJson(r.token);
    if (repeated) tokenJson.set(r.token, token);
  }
  return { principal: r.principal, token, source: r.source };
}
