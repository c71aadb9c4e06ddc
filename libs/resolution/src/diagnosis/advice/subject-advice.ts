import type { LookupKey } from '@resolver/identity';
import { own } from '@resolver/tokens';
import { isServiceToken } from '../../subject-key';
import type { Report, ReportInput } from '../report';

/** Operator text for the subject and tenant steps. */

/** The column a lookup strategy searches, as an operator would look for it. */
function columnOf(strategy: LookupKey['strategy']): string {
  switch (strategy) {
    case 'external':
      return 'external_identities (issuer, tenant, subject)';
    case 'id':
      return 'users.id';
    case 'email':
      return 'users.email (ASCII letters compared without case)';
    case 'username':
      return 'users.username';
  }
}

export function writeSubjectAndTenant(report: Report, input: ReportInput): void {
  const { steps, ctx } = input;
  const issuer = ctx?.issuer;
  const decoded = ctx?.decoded;
  const subjectOutcome = steps.outcome('subject');
  if (!issuer || !decoded || !subjectOutcome) return;
  const policy = issuer.config;
  const claims = decoded.payload;
  const unverified = subjectOutcome.unverified;
  const label = unverified ? ' (from UNVERIFIED claims)' : '';
  const service =
    ctx.subject?.kind === 'service' ||
    (!ctx.subject && !!policy.serviceAccounts && isServiceToken(claims, policy.serviceAccounts));
  const claim =
    service && policy.serviceAccounts ? policy.serviceAccounts.clientIdClaim : policy.subject.claim;
  const raw = own(claims, claim);
  const details: Record<string, unknown> = {
    claim,
    present: raw !== undefined,
    type: raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw,
    raw,
    kind: service ? 'service' : 'user',
    normalize: policy.subject.normalize,
    pattern: policy.subject.pattern?.source,
    maxLength: policy.subject.maxLength,
  };
  const subjectError = subjectOutcome.error;
  if (subjectError) {
    report.set(
      'subject',
      'fail',
      `${subjectError.reason}: ${subjectError.message}${label}`,
      details,
      {
        unverified,
        fix:
          subjectError.reason === 'SUBJECT_MISSING'
            ? `the IdP must put a non-blank user identifier in "${claim}" (or set issuers[].subject.claim to the claim it does use, e.g. oid, uid, email)`
            : `the subject must be a canonical string (no whitespace at either end, no control, invisible or bidi characters, in NFC: the resolver refuses rather than rewrites it, so fix the IdP attribute) within ${policy.subject.maxLength} characters${policy.subject.pattern ? ` matching ${policy.subject.pattern.source}` : ''}${policy.subject.lookup === 'id' ? ', a UUID (lookup: id)' : ''}${policy.subject.lookup === 'email' ? ', an email address (lookup: email)' : ''}`,
      },
    );
    return;
  }
  const normalised = ctx.subject?.value;
  report.set(
    'subject',
    'pass',
    `${claim} = ${JSON.stringify(raw)} -> ${JSON.stringify(normalised)}${raw === normalised ? '' : ' (normalised)'}${label}`,
    { ...details, normalised },
    { unverified },
  );
  const tenantError = steps.error('tenant');
  if (tenantError) {
    report.set(
      'tenant',
      'fail',
      `${tenantError.reason}: ${tenantError.message}${label}`,
      {
        tenantClaim: policy.tenant?.claim,
        value: policy.tenant ? own(claims, policy.tenant.claim) : undefined,
      },
      {
        unverified,
        fix:
          tenantError.reason === 'TENANT_MISSING'
            ? `the token must carry the tenant claim "${policy.tenant?.claim}" (configure the IdP to emit it), or set issuers[].tenant.required: false if this issuer serves one tenant`
            : `the tenant claim "${policy.tenant?.claim}" must be a canonical string of at most 255 characters: no whitespace at either end, no control, invisible or bidi characters, in NFC (the resolver refuses rather than rewrites it)`,
      },
    );
    return;
  }
  const key = ctx.key;
  if (!key) return;
  const column = columnOf(key.strategy);
  report.set(
    'tenant',
    'pass',
    `${policy.tenant ? (key.tenant ? `tenant ${JSON.stringify(key.tenant)} from "${policy.tenant.claim}"` : `no tenant: "${policy.tenant.claim}" is absent or empty (optional for this issuer)`) : 'no tenant claim configured (users without a tenant)'}; lookup ${key.strategy} by ${column}${label}`,
    { ...key, column, tenantClaim: policy.tenant?.claim ?? null },
    { unverified },
  );
}
