import { acceptsBearer, acceptsDpop, type ResolverConfig } from '@resolver/config';
import {
  type AuthChallenge,
  presentReason,
  type ReasonCode,
  type ResolutionError,
} from '@resolver/reasons';

/** The RFC 9449 §7.1 error code of the reasons a DPoP challenge names specially. */
const DPOP_ERRORS: Partial<Record<ReasonCode, string>> = {
  PROOF_MISSING: 'invalid_dpop_proof',
  PROOF_INVALID: 'invalid_dpop_proof',
  PROOF_REPLAYED: 'invalid_dpop_proof',
};

/** The DPoP challenge's error code: none without credentials, else invalid_token by default. */
function dpopError(reason: ReasonCode): string | undefined {
  return reason === 'TOKEN_MISSING' ? undefined : (DPOP_ERRORS[reason] ?? 'invalid_token');
}

const fallbacks = new WeakMap<ResolverConfig, AuthChallenge>();

/**
 * The challenge of a refusal that does not carry its own (made before the token's issuer was
 * known): Bearer unless every issuer requires a binding, and DPoP with the union of the proof
 * algorithms when some issuer accepts DPoP. Built once per configuration.
 */
export function fallbackChallenge(config: ResolverConfig): AuthChallenge {
  let challenge = fallbacks.get(config);
  if (!challenge) {
    const policies = config.issuers.map((i) => i.binding);
    const dpop = new Set<string>();
    for (const p of policies)
      if (p && acceptsDpop(p)) p.dpop.algorithms.forEach((a) => dpop.add(a));
    challenge = {
      bearer: policies.length === 0 || policies.some((p) => !p || acceptsBearer(p)),
      dpopAlgs: dpop.size ? [...dpop] : undefined,
    };
    fallbacks.set(config, challenge);
  }
  return challenge;
}

/**
 * The headers every HTTP-shaped refusal of a reason carries (problem documents, forward-auth
 * and ext_authz denials): on 401 `WWW-Authenticate` with each scheme the issuer accepts
 * (RFC 6750 §3 `Bearer`, RFC 9449 §7.1 `DPoP` with its `algs`), and `DPoP-Nonce` when a proof
 * must carry a new nonce; `Retry-After` on 503.
 */
export function refusalHeaders(
  error: Pick<ResolutionError, 'reason' | 'challenge'>,
  realm: string,
  fallback: AuthChallenge = { bearer: true },
): Record<string, string> {
  const { reason } = error;
  const { httpStatus, retryAfterSeconds } = presentReason(reason);
  const headers: Record<string, string> = {};
  if (httpStatus === 401) {
    const challenge = error.challenge ?? fallback;
    const offers: string[] = [];
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    if (challenge.bearer || !challenge.dpopAlgs)
      offers.push(
        reason === 'TOKEN_MISSING'
          ? `Bearer realm="${realm}"`
          : `Bearer realm="${realm}", error="invalid_token"`,
      );
    if (challenge.dpopAlgs) {
      const code = dpopError(reason);
      offers.push(
        `DPoP realm="${realm}"${code ? `, error="${code}"` : ''}, algs="${challenge.dpopAlgs.join(' ')}"`,
      );
    }
    headers['www-authenticate'] = offers.join(', ');
    if (challenge.nonce) headers['dpop-nonce'] = challenge.nonce;
  }
  if (httpStatus === 503) headers['retry-after'] = String(retryAfterSeconds ?? 1);
  return headers;
}
