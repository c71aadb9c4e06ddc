import type { Immutable } from '@resolver/config';
import type { Resolution } from '@resolver/resolution';
import type { ResolveSubjectResponse } from '@resolver/contract';

/**
 * A google.protobuf.Timestamp for proto-loader's encoder. Seconds as a number: the encoder
 * takes int64 from a number without the string parse a string would cost on every call.
 */
function timestamp(date: Date | undefined): { seconds: number; nanos: number } | null {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * Resolution -> identity.v1.ResolveSubjectResponse. The principal and the token's arrays are
 * passed as they are, not copied: the encoder only reads them, and on a warm call they are the
 * cached entry's own objects.
 */
export function toResolveSubjectResponse(r: Resolution): Immutable<ResolveSubjectResponse> {
  const t = r.token;
  return {
    principal: r.principal,
    token: {
      issuer: t.issuer,
      subject: t.subject,
      audience: t.audience,
      expiresAt: timestamp(t.expiresAt),
      issuedAt: timestamp(t.issuedAt),
      jti: t.jti,
      scopes: t.scopes,
    },
    source: r.source,
  };
}
