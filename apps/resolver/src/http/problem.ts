import { presentReason, type ReasonCode } from '@resolver/reasons';

/** RFC 9457 problem document with the resolver's `reason` extension. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  reason?: ReasonCode;
  detail?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The headers every HTTP-shaped refusal of a reason carries (problem documents, forward-auth
 * and ext_authz denials): `WWW-Authenticate` on 401, `Retry-After` on 503.
 */
export function challengeHeaders(reason: ReasonCode, realm: string): Record<string, string> {
  const { httpStatus } = presentReason(reason);
  const headers: Record<string, string> = {};
  if (httpStatus === 401) {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    headers['www-authenticate'] =
      reason === 'TOKEN_MISSING'
        ? `Bearer realm="${realm}"`
        : `Bearer realm="${realm}", error="invalid_token"`;
  }
  if (httpStatus === 503) headers['retry-after'] = '1';
  return headers;
}

/** The problem document and headers for a reason. Titles are fixed text: no request data. */
export function problemFor(
  reason: ReasonCode,
  realm: string,
): { problem: Problem; headers: Record<string, string> } {
  const { httpStatus, title } = presentReason(reason);
  const headers = challengeHeaders(reason, realm);
  return {
    problem: { type: `urn:${realm}:reason:${reason}`, title, status: httpStatus, reason },
    headers,
  };
}
