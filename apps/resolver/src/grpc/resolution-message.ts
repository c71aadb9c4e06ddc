import type { Resolution } from '@resolver/resolution';

/** A google.protobuf.Timestamp as @grpc/proto-loader expects it (longs as strings). */
function timestamp(date: Date | undefined): { seconds: string; nanos: number } | null {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** Resolution -> identity.v1.ResolveSubjectResponse. */
export function toResolveSubjectResponse(r: Resolution) {
  return {
    principal: { ...r.principal, roles: [...r.principal.roles] },
    token: {
      issuer: r.token.issuer,
      subject: r.token.subject,
      audience: [...r.token.audience],
      expiresAt: timestamp(r.token.expiresAt),
      issuedAt: timestamp(r.token.issuedAt),
      jti: r.token.jti,
      scopes: [...r.token.scopes],
    },
    source: r.source,
  };
}
