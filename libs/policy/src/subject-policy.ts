import type { IssuerConfig } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { describeNonCanonical, findNonCanonical, foldEmail } from './canonical-identifier';

/** A UUID in its text form (RFC 9562), any letter case: user ids and the `id` lookup. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Applies an issuer's subject policy to a raw claim value; throws SUBJECT_MISSING /
 * SUBJECT_MALFORMED. The one definition of "the subject a token carries", shared by the
 * resolver's subject step and by every writer that stores a link for tokens to find (SCIM).
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
