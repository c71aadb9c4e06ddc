import type { IssuerConfig } from '@resolver/config';
import {
  describeNonCanonical,
  findNonCanonical,
  type LookupKey,
  normaliseSubject,
} from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';
import type { VerifiedToken } from '@resolver/tokens';

const MAX_TENANT_LENGTH = 255;

/**
 * Step 5 of the pipeline: the issuer's subject strategy turns verified claims into the key the
 * store is searched by. `jose` does not check the subject's type, so this does: a non-string,
 * empty, over-long or non-canonical subject never reaches SQL.
 */
export function lookupKeyFor(token: VerifiedToken): LookupKey {
  const { subject: policy, tenant: tenantPolicy, serviceAccounts } = token.issuer;
  if (serviceAccounts && isServiceToken(token.claims, serviceAccounts)) {
    // Machine clients are looked up by client id through the federated mapping, whatever the
    // issuer's strategy for people; the principal found must be of kind `service`.
    const clientIdPolicy = {
      ...policy,
      claim: serviceAccounts.clientIdClaim,
      lookup: 'external' as const,
      pattern: undefined,
    };
    return {
      issuer: token.issuer.issuer,
      tenant: tenantFor(token.claims, tenantPolicy),
      subject: normaliseSubject(token.claims[serviceAccounts.clientIdClaim], clientIdPolicy),
      strategy: 'external',
      kind: 'service',
    };
  }
  const subject = normaliseSubject(token.subject, policy);
  return {
    issuer: token.issuer.issuer,
    tenant: tenantFor(token.claims, tenantPolicy),
    subject,
    strategy: policy.lookup,
    kind: 'user',
  };
}

/** The issuer's service-account rule: a claim value, or `sub` equal to the client id. */
export function isServiceToken(
  claims: Readonly<Record<string, unknown>>,
  rule: NonNullable<IssuerConfig['serviceAccounts']>,
): boolean {
  if (rule.when) return claims[rule.when.claim] === rule.when.equals;
  const clientId = claims[rule.clientIdClaim];
  return (
    rule.subEqualsClientId &&
    typeof clientId === 'string' &&
    clientId !== '' &&
    claims.sub === clientId
  );
}

/**
 * The tenant value under the same rules as a subject: validated, never trimmed or normalised
 * into another tenant. Absent, null or `''` is "no tenant"; anything else that is not a short
 * canonical string is CLAIM_INVALID.
 */
function tenantFor(
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerConfig['tenant'],
): string {
  if (!policy) return '';
  const raw = claims[policy.claim];
  if (raw === undefined || raw === null || raw === '') {
    if (policy.required)
      throw new ResolutionError('TENANT_MISSING', `claim "${policy.claim}" is absent`);
    return '';
  }
  if (typeof raw !== 'string' || raw.length > MAX_TENANT_LENGTH) {
    throw new ResolutionError(
      'CLAIM_INVALID',
      `tenant claim "${policy.claim}" must be a string of at most ${MAX_TENANT_LENGTH} characters`,
    );
  }
  const found = findNonCanonical(raw);
  if (found) {
    throw new ResolutionError(
      'CLAIM_INVALID',
      `tenant claim "${policy.claim}" is not canonical: ${describeNonCanonical(found)}`,
    );
  }
  return raw;
}
