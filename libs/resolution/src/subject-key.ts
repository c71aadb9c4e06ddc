import type { IssuerConfig } from '@resolver/config';
import {
  describeNonCanonical,
  findNonCanonical,
  foldEmail,
  type LookupKey,
} from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';
import type { VerifiedToken } from '@resolver/tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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
 * Applies the subject policy to a raw claim value; throws SUBJECT_MISSING / SUBJECT_MALFORMED.
 *
 * The subject is validated, never rewritten into another subject: a value that is not already
 * canonical (see {@link findNonCanonical}) is refused with the offending code point named, and
 * the only folds are the configured ones (ASCII-space `trim`, `lowercase`) and the lookup's own
 * (ASCII case for `email`, hex case for `id`). So two subjects the IdP treats as different never
 * become one user.
 */
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
  // The one opt-in rewrite before validation: ASCII spaces only, never other whitespace.
  let value = policy.normalize.trim ? trimAsciiSpaces(raw) : raw;
  if (value === '')
    throw new ResolutionError('SUBJECT_MISSING', `claim "${policy.claim}" is empty`);
  const found = findNonCanonical(value, { nfc: policy.normalize.nfc });
  if (found) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" is not canonical: ${describeNonCanonical(found)}`,
    );
  }
  if ([...value].length > policy.maxLength) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" exceeds ${policy.maxLength} characters`,
    );
  }
  if (policy.normalize.lowercase) value = value.toLowerCase();
  if (policy.pattern && !policy.pattern.test(value)) {
    throw new ResolutionError(
      'SUBJECT_MALFORMED',
      `claim "${policy.claim}" does not match the configured pattern`,
    );
  }
  switch (policy.lookup) {
    case 'id':
      if (!UUID.test(value)) {
        throw new ResolutionError(
          'SUBJECT_MALFORMED',
          `claim "${policy.claim}" is not a UUID (lookup: id)`,
        );
      }
      // RFC 9562: UUID hex digits are case-insensitive; the database compares them as uuids.
      return value.toLowerCase();
    case 'email':
      if (!EMAIL.test(value)) {
        throw new ResolutionError(
          'SUBJECT_MALFORMED',
          `claim "${policy.claim}" is not an email address (lookup: email)`,
        );
      }
      return foldEmail(value);
    case 'external':
    case 'username':
      return value;
  }
}

/** One `@`, something on each side, no whitespace of any kind. */
const EMAIL = /^[^@\p{White_Space}]+@[^@\p{White_Space}]+$/u;

function trimAsciiSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) === 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) === 0x20) end--;
  return value.slice(start, end);
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
