import type { IssuerConfig } from '@resolver/config';
import { type LookupKey } from '@resolver/identity';
import { describeNonCanonical, findNonCanonical, normaliseSubject } from '@resolver/policy';
import { ResolutionError } from '@resolver/reasons';
import { own, type VerifiedToken } from '@resolver/tokens';

const MAX_TENANT_LENGTH = 255;

/**
 * The subject and tenant steps in one call (tests and tools): the issuer's subject strategy
 * turns verified claims into the key the store is searched by.
 */
export function lookupKeyFor(token: VerifiedToken): LookupKey {
  return lookupKeyOf(token.issuer, token.claims, subjectFor(token.issuer, token.claims));
}

/**
 * The tenant step's decision and the key it builds: the tenant claim, validated, with the
 * subject the subject step found. Service accounts are always looked up through the federated
 * mapping.
 */
export function lookupKeyOf(
  policy: Pick<IssuerConfig, 'issuer' | 'subject' | 'tenant'>,
  claims: Readonly<Record<string, unknown>>,
  found: { readonly value: string; readonly kind: LookupKey['kind'] },
): LookupKey {
  return {
    issuer: policy.issuer,
    tenant: tenantFor(claims, policy.tenant),
    subject: found.value,
    strategy: found.kind === 'service' ? 'external' : policy.subject.lookup,
    kind: found.kind,
  };
}

/**
 * The subject step's decision. `jose` does not check the subject's type, so this does: a
 * non-string, empty, over-long or non-canonical subject never reaches SQL (SUBJECT_MISSING,
 * SUBJECT_MALFORMED). A service-account token is looked up by its client id through the
 * federated mapping, whatever the issuer's strategy for people.
 */
export function subjectFor(
  policy: Pick<IssuerConfig, 'subject' | 'serviceAccounts'>,
  claims: Readonly<Record<string, unknown>>,
): { readonly value: string; readonly kind: LookupKey['kind']; readonly claim: string } {
  const { subject, serviceAccounts } = policy;
  if (serviceAccounts && isServiceToken(claims, serviceAccounts)) {
    const claim = serviceAccounts.clientIdClaim;
    const clientIdPolicy = { ...subject, claim, lookup: 'external' as const, pattern: undefined };
    return { value: normaliseSubject(own(claims, claim), clientIdPolicy), kind: 'service', claim };
  }
  return {
    value: normaliseSubject(own(claims, subject.claim), subject),
    kind: 'user',
    claim: subject.claim,
  };
}

/** The issuer's service-account rule: a claim value, or `sub` equal to the client id. */
export function isServiceToken(
  claims: Readonly<Record<string, unknown>>,
  rule: NonNullable<IssuerConfig['serviceAccounts']>,
): boolean {
  if (rule.when) return own(claims, rule.when.claim) === rule.when.equals;
  const clientId = own(claims, rule.clientIdClaim);
  return (
    rule.subEqualsClientId &&
    typeof clientId === 'string' &&
    clientId !== '' &&
    own(claims, 'sub') === clientId
  );
}

/**
 * The tenant step's decision: the tenant value under the same rules as a subject: validated, never trimmed or normalised
 * into another tenant. Absent, null or `''` is "no tenant"; anything else that is not a short
 * canonical string is CLAIM_INVALID.
 */
export function tenantFor(
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerConfig['tenant'],
): string {
  if (!policy) return '';
  const raw = own(claims, policy.claim);
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
