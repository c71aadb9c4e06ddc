import type { ReasonCode } from '@resolver/reasons';
import { humanTime } from '../human-time';
import type { BindingFindings } from '../../pipeline/binding-step';
import type { Report, ReportInput } from '../report';

/** Operator text for the sender-binding step: which binding, what matched, what did not. */

/** What to do about each refusal the binding step makes. */
const FIXES: Partial<Record<ReasonCode, string>> = {
  PROOF_MISSING:
    'the client must send a DPoP proof with each request (DPoP header), and the gateway must forward it (nginx: proxy_set_header DPoP $http_dpop; Traefik: authRequestHeaders includes DPoP; Envoy ext_authz forwards all headers)',
  PROOF_INVALID:
    'the proof must be made for this request: typ dpop+jwt, an allowed alg, the public key in jwk, htm/htu of the request the gateway saw, a fresh iat and ath of this token; check that the gateway forwards the original method and URI (X-Original-Method / X-Original-URL, X-Forwarded-Method/-Proto/-Host/-Uri)',
  PROOF_REPLAYED:
    'each request needs a new proof with a new jti: the client library makes one per request (a retry must not resend the same proof)',
  BINDING_MISMATCH:
    "send the token with the scheme and proof of its binding (DPoP-bound: Authorization: DPoP with a proof signed by the key in cnf.jkt; certificate-bound: the client certificate the token was issued to), or change the issuer's binding policy",
  CLAIM_INVALID: 'the issuer put a malformed cnf claim in the token: check its DPoP / mTLS setup',
};

/**
 * What to do about a certificate-bound token's refusal (the client certificate, not a proof).
 * Text only: the binding step decided.
 */
const CERTIFICATE_FIXES: Partial<Record<ReasonCode, string>> = {
  PROOF_MISSING:
    'the client must present the certificate the token was issued to, and the gateway must forward it (Envoy: include_peer_certificate or XFCC; nginx: proxy_set_header X-Client-Cert $ssl_client_escaped_cert; Traefik: passTLSClientCert) from a source binding.forwardedCertificate trusts (a TLS caller allowed forwarded-certificate, trustedSources, or the shared secret)',
  PROOF_INVALID:
    "the forwarded certificate must be the client's leaf certificate in the configured format (binding.forwardedCertificate.format): URL-encoded PEM, XFCC with Hash= and Cert= that agree, or RFC 9440",
  BINDING_MISMATCH:
    'the client presented another certificate than the one its token was issued to: it must use the certificate (and key) it authenticated with at the token endpoint, or get a new token',
};

/** The certificate check's comparison, for the details (thumbprints, never the certificate). */
function certificateDetails(found: BindingFindings | undefined) {
  const c = found?.certificate;
  if (!c) return {};
  return {
    certificateSource: c.source ?? null,
    certificateIgnored: c.ignored ?? null,
    certificateThumbprint: c.presented ?? null,
    certificateRefusal: c.refusal ?? null,
  };
}

export function writeBinding(report: Report, input: ReportInput): void {
  const { ctx, steps, now } = input;
  const found = ctx?.binding;
  const outcome = steps.outcome('binding');
  const confirmation = ctx?.token?.binding?.confirmation;
  const policy = found?.policy ?? ctx?.token?.binding?.policy;
  const details = {
    methods: found?.methods ?? [],
    mode: policy?.mode ?? 'none',
    enforcement: policy?.enforcement ?? 'when-bound',
    jkt: confirmation?.jkt ?? null,
    x5tS256: confirmation?.x5tS256 ?? null,
    proofJti: found?.proof?.jti ?? null,
    proofIssuedAt: found?.proof ? humanTime(new Date(found.proof.iatMs), now) : null,
    ...certificateDetails(found),
  };
  if (!outcome) {
    report.set(
      'binding',
      'pass',
      ctx?.token
        ? 'a bearer token (no cnf) and an issuer that does not require a binding: nothing to check'
        : 'not reached',
      details,
    );
    return;
  }
  const bound = found?.methods.length
    ? `bound by ${found.methods.map((m) => (m === 'jkt' ? 'DPoP (cnf.jkt)' : 'certificate (cnf["x5t#S256"])')).join(' and ')}`
    : 'not bound';
  const error = outcome.error;
  if (!error) {
    report.set(
      'binding',
      'pass',
      found?.proof
        ? `${bound}: the DPoP proof matches the key, the request and the token, and was not seen before`
        : found?.certificate?.presented
          ? `${bound}: the client certificate (${found.certificate.source ?? 'unknown'}) has the thumbprint the token names`
          : `${bound}: the binding holds`,
      details,
      { unverified: outcome.unverified },
    );
    return;
  }
  report.set('binding', 'fail', `${bound}; ${error.reason}: ${error.message}`, details, {
    unverified: outcome.unverified,
    fix:
      (found?.certificate && !found.proof ? CERTIFICATE_FIXES[error.reason] : undefined) ??
      FIXES[error.reason] ??
      'see the reason',
  });
}
