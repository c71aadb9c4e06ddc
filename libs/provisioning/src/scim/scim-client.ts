import { createHash, timingSafeEqual } from 'node:crypto';
import type { ScimClientConfig, SubjectPolicy } from '@resolver/config';
import { normaliseSubject } from '@resolver/identity';
import { isResolutionError } from '@resolver/reasons';
import { ScimError } from './scim-error';

/** The client a SCIM request comes from, and the base URL its resources live under. */
export interface ScimCaller {
  readonly client: ScimClientConfig;
  readonly baseUrl: string;
}

/**
 * Finds the SCIM client whose credential `authorization` carries: sha256 of the presented
 * bearer compared with every client's stored hash in constant time (all of them, so timing
 * says nothing about which comparison matched). 401 when none does.
 */
export function authenticateClient(
  clients: readonly ScimClientConfig[],
  authorization: string | undefined,
): ScimClientConfig {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  let found: ScimClientConfig | undefined;
  for (const client of clients) {
    if (timingSafeEqual(presented, client.tokenSha256) && match) found = client;
  }
  if (!found) throw new ScimError('unauthorized', 'a valid SCIM bearer credential is required');
  return found;
}

/**
 * The subject a token of this client's issuer will carry, normalised by that issuer's subject
 * policy so the link matches the lookup exactly; a value the policy would refuse is refused here.
 */
export function subjectFor(raw: unknown, attribute: string, policy: SubjectPolicy): string {
  if (typeof raw !== 'string' || raw === '')
    throw ScimError.invalid(
      'invalidValue',
      `${attribute}: required: it carries the subject of this client's tokens`,
    );
  // The resolver's own subject step (one definition): the link holds exactly the key a token of
  // this issuer is looked up by, and a subject no token could carry is refused, never rewritten.
  try {
    return normaliseSubject(raw, { ...policy, lookup: 'external' });
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    throw ScimError.invalid(
      'invalidValue',
      `${attribute}: not a subject the issuer's policy accepts: ${error.message}`,
    );
  }
}
