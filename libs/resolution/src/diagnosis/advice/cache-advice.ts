import type { UserRecord } from '@resolver/identity';
import { PIPELINE } from '../../pipeline/pipeline';
import { humanTime } from '../human-time';
import { type Report, type ReportInput, summary } from '../report';

/** Operator text for the caches: what they hold for this token and whether it is stale. */

/** Fields that decide an answer, where the cached user and the store disagree. */
function differences(cached: UserRecord, store: UserRecord | null): string[] {
  if (!store) return [`user ${cached.id} is cached but the store no longer finds it`];
  const out: string[] = [];
  const t = (d: Date | null) => d?.toISOString() ?? null;
  if (cached.id !== store.id) out.push(`id ${cached.id} vs ${store.id}`);
  if (cached.status !== store.status)
    out.push(`status ${cached.status} (cache) vs ${store.status} (store)`);
  if (t(cached.deletedAt) !== t(store.deletedAt))
    out.push(`deleted_at ${t(cached.deletedAt)} (cache) vs ${t(store.deletedAt)} (store)`);
  if (t(cached.tokensValidAfter) !== t(store.tokensValidAfter))
    out.push(
      `tokens_valid_after ${t(cached.tokensValidAfter)} (cache) vs ${t(store.tokensValidAfter)} (store)`,
    );
  if (cached.kind !== store.kind) out.push(`kind ${cached.kind} vs ${store.kind}`);
  if (t(cached.updatedAt) !== t(store.updatedAt) && out.length === 0)
    out.push(`updated_at ${t(cached.updatedAt)} (cache) vs ${t(store.updatedAt)} (store)`);
  return out;
}

/** The verification steps: a cached token is answered without them. */
const VERIFICATION = new Set(['issuer', 'key', 'signature', 'time', 'claims']);

/** The first refusal of the verification steps. */
function verificationFailure(input: ReportInput) {
  for (const step of PIPELINE) {
    const error =
      step.stage === 'token' && VERIFICATION.has(step.reports)
        ? input.steps.error(step.name)
        : undefined;
    if (error) return error;
  }
  return undefined;
}

export function writeCache(report: Report, input: ReportInput): void {
  const { seen, now, ctx } = input;
  const sizes = seen.cacheSizes ?? {};
  if (!seen.coherent) {
    report.set(
      'cache',
      'warn',
      'caches are bypassed: the LISTEN connection is down (every request goes to the store)',
      { coherent: false, sizes },
      {
        fix: 'check the listener connection to Postgres (/health/ready); caches come back by themselves when it reconnects',
      },
    );
    return;
  }
  const cachedToken = ctx?.cached;
  const key = ctx?.token?.key ?? ctx?.key;
  const { cachedUser, knownMissing = false, storeUser } = seen;
  const details: Record<string, unknown> = {
    coherent: true,
    sizes,
    token: cachedToken
      ? {
          cached: true,
          key: cachedToken.key,
          expiresAt: cachedToken.expiresAtMs
            ? humanTime(new Date(cachedToken.expiresAtMs), now)
            : undefined,
        }
      : { cached: false },
    user: key
      ? cachedUser
        ? { cached: true, user: summary(cachedUser, now) }
        : { cached: false }
      : undefined,
    negative: key ? { cached: knownMissing } : undefined,
  };
  const stale: string[] = [];
  const failure = cachedToken ? verificationFailure(input) : undefined;
  if (failure)
    stale.push(
      `the token cache still accepts this token, although verification now fails with ${failure.reason}`,
    );
  if (cachedUser && storeUser !== undefined) {
    const diffs = differences(cachedUser, storeUser);
    if (diffs.length) stale.push(`the user cache differs from the store: ${diffs.join(', ')}`);
  }
  if (knownMissing && storeUser)
    stale.push(`the negative cache says "no such user" but the store has ${storeUser.id}`);
  if (stale.length) {
    details.stale = stale;
    report.set('cache', 'fail', `stale: ${stale.join('; ')}`, details, {
      fix: 'flush the caches (cli flush, or POST /admin/v1/caches/flush), then find why the change was not announced: a write with triggers disabled (session_replication_role = replica) or a lost NOTIFY',
    });
    return;
  }
  const held = [
    cachedToken ? 'token' : undefined,
    cachedUser ? 'user' : undefined,
    knownMissing ? 'negative' : undefined,
  ].filter(Boolean);
  report.set(
    'cache',
    'pass',
    held.length
      ? `cached: ${held.join(', ')}; agrees with the store`
      : 'nothing cached for this token or key',
    details,
  );
}
