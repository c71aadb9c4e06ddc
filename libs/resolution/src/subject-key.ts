import type { IssuerConfig } from '@resolver/config';
import type { LookupKey } from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';
import type { VerifiedToken } from '@resolver/tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TENANT_LENGTH = 255;

/**
 * Step 5 of the pipeline: the issuer's subject strategy turns verified claims into the key the
 * store is searched by. `jose` does not check the subject's type, so this does: a non-string,
 * empty, over-long, control-character or non-normalisable subject never reaches SQL.
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

/** Applies the subject policy to a raw claim value; throws SUBJECT_MISSING / SUBJECT_MALFORMED. */
export function normaliseSubject(raw: unknown, policy: IssuerConfig['subject']): string {
  if (raw === undefined || raw === null) {
    throw new ResolutionError('SUBJECT_MISSING', `claim "${policy.claim}" is absent`);
  }
  if (typeof raw !== 'string') {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" is a ${Array.isArray(raw) ? 'array' : typeof raw}, not a string`,
    );
  }
  if (raw.length > policy.maxLength * 4) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" exceeds ${policy.maxLength} characters`,
    );
  }
  if (!raw.isWellFormed() || /\p{Cc}/u.test(raw)) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" contains control or unpaired surrogate characters`,
    );
  }
  let value = raw;
  if (policy.normalize.trim) value = value.trim();
  if (policy.normalize.nfc) value = value.normalize('NFC');
  if (policy.normalize.lowercase) value = value.toLowerCase();
  if (value === '')
    throw new ResolutionError('SUBJECT_MISSING', `claim "${policy.claim}" is empty`);
  if ([...value].length > policy.maxLength) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" exceeds ${policy.maxLength} characters`,
    );
  }
  if (policy.pattern && !policy.pattern.test(value)) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" does not match the configured pattern`,
    );
  }
  if (policy.lookup === 'id' && !UUID.test(value)) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" is not a UUID (lookup: id)`,
    );
  }
  if (policy.lookup === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value)) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" is not an email address (lookup: email)`,
    );
  }
  return value;
}

function tenantFor(
  claims: Readonly<Record<string, unknown>>,
  policy: IssuerConfig['tenant'],
): string {
  if (!policy) return '';
  const raw = claims[policy.claim];
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    if (policy.required)
      throw new ResolutionError('TENANT_MISSING', `claim "${policy.claim}" is absent`);
    return '';
  }
  if (
    typeof raw !== 'string' ||
    raw.length > MAX_TENANT_LENGTH ||
    /\p{Cc}/u.test(raw) ||
    !raw.isWellFormed()
  ) {
    throw new ResolutionError(
      'CLAIM_INVALID',
      `tenant claim "${policy.claim}" must be a short printable string`,
    );
  }
  return raw.trim().normalize('NFC');
}
