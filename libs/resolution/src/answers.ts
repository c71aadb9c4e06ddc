import type { UserRecord } from '@resolver/identity';
import type { CachedToken } from './cache/subject-caches';
import { checkWarm } from './pipeline/pipeline';
import type { Principal, Resolution, ResolutionSource, TokenInfo } from './resolution';

/*
 * The answers ResolveSubject gives once every check has passed: built from a cached token and a
 * user record, shared where they are seen again (a cached record's principal, a repeated token's
 * answer), fresh where they are not.
 */

/**
 * The warm path's answer: the pipeline's own checks of a token and its user (unless the caller
 * ran them, each in its span), then the answer.
 */
export function answer(
  token: CachedToken,
  user: UserRecord,
  source: ResolutionSource,
  check: boolean,
): Resolution {
  if (check) checkWarm(token, user);
  return resolutionOf(token, user, source);
}

/** Whether a cached token and its cached user pass the warm path's checks (no refusal here). */
export function passesWarm(token: CachedToken, user: UserRecord): boolean {
  try {
    checkWarm(token, user);
    return true;
  } catch {
    return false;
  }
}

/** The answer for a user every check passed. */
export function resolutionOf(
  token: CachedToken,
  user: UserRecord,
  source: ResolutionSource,
): Resolution {
  // Memoised only for a record from the user cache, which is seen again. A record just read
  // from the store is usually garbage after this answer; keyed into a long-lived WeakMap it
  // would be kept through young collections (in a reproduction, fresh keys and values in an old
  // WeakMap turned 0 major GCs into 116).
  return {
    principal: source === 'CACHE' ? principalOf(user) : toPrincipal(user),
    token: token.info,
    source,
  };
}

/**
 * The answer from memory for a repeated token, one object per cached token and principal: the
 * transports keep what they write for it (JSON, protobuf bytes) by its identity. A changed user
 * is a new cached record, hence a new principal and a new answer. Only for answers from memory:
 * a first-seen token may never come back, and keying it into this WeakMap would keep it through
 * young collections (see {@link resolutionOf}).
 */
const warmAnswers = new WeakMap<TokenInfo, Resolution>();
export function warmAnswerOf(token: CachedToken, user: UserRecord): Resolution {
  const principal = principalOf(user);
  const known = warmAnswers.get(token.info);
  if (known?.principal === principal) return known;
  const answer: Resolution = { principal, token: token.info, source: 'CACHE' };
  warmAnswers.set(token.info, answer);
  return answer;
}

/**
 * A cached user record's principal, built once per record: cached records are shared and never
 * mutated (a change replaces the record), so the principal can be shared with them.
 */
const principals = new WeakMap<UserRecord, Principal>();
function principalOf(user: UserRecord): Principal {
  let principal = principals.get(user);
  if (!principal) principals.set(user, (principal = toPrincipal(user)));
  return principal;
}

function toPrincipal(user: UserRecord): Principal {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(user.attributes))
    attributes[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return {
    id: user.id,
    kind: user.kind,
    tenantId: user.tenant,
    email: user.email ?? '',
    username: user.username ?? '',
    displayName: user.displayName ?? '',
    roles: user.roles,
    status: user.status,
    attributes,
  };
}
