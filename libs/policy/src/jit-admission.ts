import type { JitPolicy } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { describeNonCanonical, findNonCanonical, foldEmail } from './canonical-identifier';
import { decideStatus } from './operator-decisions';
import type { LookupKey, NewUser } from './principal';

const MAX_FIELD_LENGTH = 320;

/** A claim as an own property only: an inherited property is never a claim. */
const own = (claims: Readonly<Record<string, unknown>>, name: string): unknown =>
  Object.hasOwn(claims, name) ? claims[name] : undefined;

/**
 * Builds the user a token would provision under an issuer's JIT policy, or throws
 * `PROVISIONING_REJECTED` naming the claim that stops it. Pure: no store access.
 */
export function provisioningInput(
  key: LookupKey,
  claims: Readonly<Record<string, unknown>>,
  policy: JitPolicy,
): NewUser {
  if (key.kind === 'service') {
    // A machine client carries no personal claims: it is named by its client id.
    return {
      tenant: key.tenant,
      namespace: key.issuer,
      kind: 'service',
      displayName: key.subject,
      roles: [...policy.defaultRoles],
      status: decideStatus(null, 'jit', 'active'),
      provenance: 'jit',
    };
  }
  for (const claim of policy.requiredClaims) {
    const value = own(claims, claim);
    if (value === undefined || value === null || value === '') {
      throw new ResolutionError('PROVISIONING_REJECTED', `JIT requires claim "${claim}"`);
    }
  }
  const user: {
    email?: string;
    username?: string;
    displayName?: string;
    roles: string[];
    attributes: Record<string, string>;
  } = { roles: [...policy.defaultRoles], attributes: {} };

  for (const [claim, target] of Object.entries(policy.map)) {
    const value = own(claims, claim);
    if (value === undefined || value === null) continue;
    if (target === 'roles') {
      const roles = Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? value.split(/[\s,]+/)
          : null;
      if (!roles || !roles.every((r) => typeof r === 'string' && r.length <= 128)) {
        throw new ResolutionError(
          'PROVISIONING_REJECTED',
          `claim "${claim}" must be a list of role names`,
        );
      }
      user.roles = [...new Set([...user.roles, ...(roles as string[]).filter(Boolean)])];
      continue;
    }
    if (typeof value !== 'string' || value.length > MAX_FIELD_LENGTH || /\p{Cc}/u.test(value)) {
      throw new ResolutionError(
        'PROVISIONING_REJECTED',
        `claim "${claim}" must be a short printable string`,
      );
    }
    if (target.startsWith('attributes.')) {
      user.attributes[target.slice('attributes.'.length)] = value;
      continue;
    }
    if (target === 'displayName') {
      user.displayName = value.trim();
      continue;
    }
    // Email and username are identifiers other lookups use: stored as sent or refused, never
    // rewritten into someone else's (only the email's documented ASCII-case fold applies).
    const found = findNonCanonical(value);
    if (found) {
      throw new ResolutionError(
        'PROVISIONING_REJECTED',
        `claim "${claim}" is not canonical: ${describeNonCanonical(found)}`,
      );
    }
    if (target === 'email') user.email = foldEmail(value);
    else user.username = value;
  }
  // The lookup key itself is authoritative for the field it looks up by.
  if (key.strategy === 'email') user.email = key.subject;
  if (key.strategy === 'username') user.username = key.subject;
  // The issuer's namespace: its users' email and username never collide with another issuer's.
  return {
    ...user,
    tenant: key.tenant,
    namespace: key.issuer,
    kind: key.kind,
    status: decideStatus(null, 'jit', 'active'),
    provenance: 'jit',
  };
}
