import type { LookupKey, NearMiss, UserRecord } from '@resolver/identity';
import { revokedSessionOf, type SignalMark } from '@resolver/policy';
import type { ReasonCode } from '@resolver/reasons';
import { jitAllowed } from '../../pipeline/user-steps';
import { humanTime, numericDate, relativeTime } from '../human-time';
import { messageOf, type Report, type ReportInput, summary } from '../report';
import { inTenant, shown } from './wording';

/** Operator text for the store, user, JIT and revocation steps. */

/** The key the report speaks about: the pipeline's, or (not trusted) the one from the claims. */
function reportKey(input: ReportInput): LookupKey | undefined {
  return input.ctx?.token?.key ?? input.ctx?.key;
}

/** True when the user steps worked on a token the pipeline does not trust. */
function isUnverified(input: ReportInput): boolean {
  return input.steps.outcome('lookup')?.unverified ?? !input.ctx?.verified;
}

export function writeStore(report: Report, input: ReportInput): void {
  const store = input.seen.store;
  if (!store) return;
  if (store.up) {
    report.set('store', 'pass', `reachable, ${store.latencyMs.toFixed(1)} ms`, {
      latencyMs: Number(store.latencyMs.toFixed(1)),
    });
    return;
  }
  report.set(
    'store',
    'fail',
    `unreachable after ${store.latencyMs.toFixed(0)} ms: ${store.reason}`,
    { latencyMs: Math.round(store.latencyMs), reason: store.reason },
    {
      fix: 'check Postgres (DATABASE_URL, /health/ready, the pool and statement timeouts); resolutions answer 503 USER_STORE_UNAVAILABLE, never "not found", until it is back',
    },
  );
}

export function writeUser(report: Report, input: ReportInput): void {
  const key = reportKey(input);
  const unverified = isUnverified(input);
  const storeUser = input.seen.storeUser;
  if (!key) {
    report.set('user', 'skip', 'no lookup key: see the subject and tenant steps');
  } else if (storeUser === undefined) {
    report.set('user', 'skip', 'the user store could not be asked', {}, { unverified });
  } else if (storeUser) {
    userFound(report, input, storeUser, key, unverified);
  } else {
    userMissing(report, input, key, unverified);
  }
}

/** When the token was issued, for "created after the token" remarks. */
function issuedAt(input: ReportInput): Date | undefined {
  return numericDate(input.ctx?.decoded?.payload.iat);
}

function userFound(
  report: Report,
  input: ReportInput,
  user: UserRecord,
  key: LookupKey,
  unverified: boolean,
): void {
  const { now, seen } = input;
  const scim = seen.scim;
  const details = { user: summary(user, now), ...(scim ? { scim: scim.details } : {}) };
  if (seen.storeUserWrongKind) {
    report.set(
      'user',
      'fail',
      `the subject maps to a ${user.kind} (${user.id}), the token is a ${key.kind} token`,
      details,
      {
        unverified,
        fix: `link this ${key.kind === 'service' ? 'client id' : 'subject'} to a ${key.kind} principal, or fix the issuer's serviceAccounts rule`,
      },
    );
    return;
  }
  const barred = seen.storeUserBarred;
  if (barred) {
    const fixes: Partial<Record<ReasonCode, string>> = {
      USER_DELETED: `user ${user.id} was deleted ${user.deletedAt ? relativeTime(user.deletedAt, now) : ''}: restore it (cli users restore ${user.id}) if that was a mistake`,
      USER_DISABLED: `user ${user.id} is disabled: enable it (cli users enable ${user.id}) if access should be allowed`,
      USER_LOCKED: `user ${user.id} is locked: unlock it (cli users unlock ${user.id}) once the reason is resolved`,
    };
    report.set(
      'user',
      'fail',
      `${barred}: found ${user.id}${user.email ? ` <${user.email}>` : ''}, status ${user.status}${user.deletedAt ? `, deleted ${relativeTime(user.deletedAt, now)}` : ''}${barred === 'USER_DISABLED' ? bySignal(user.signals?.marks.status, 'disabled') : ''}${scim ? `; ${scim.text}` : ''}`,
      details,
      { unverified, fix: fixes[barred] },
    );
    return;
  }
  const iat = issuedAt(input);
  const createdAfter = iat && user.createdAt.getTime() > iat.getTime();
  report.set(
    'user',
    'pass',
    `found ${user.id}${user.email ? ` <${user.email}>` : ''}, ${user.status}, created ${relativeTime(user.createdAt, now)}${createdAfter ? ' (after the token was issued)' : ''}${scim ? `; ${scim.text}` : ''}`,
    details,
    { unverified },
  );
}

/** What to do about a user nobody created: the SCIM client that should have, if one is configured. */
function neverSynced(input: ReportInput, key: LookupKey): string {
  const client = input.config.scim.clients.find(
    (c) => c.issuer === key.issuer && c.tenant === key.tenant,
  );
  if (client && key.kind === 'user')
    return `the user was never synced: SCIM client ${client.id} provisions this issuer and tenant but has not pushed a user whose ${client.subjectAttribute} is ${JSON.stringify(key.subject)}; check that the user is assigned to the app in the IdP and the IdP's provisioning log`;
  return `the user was never synced: create it and link it (cli users create --email … --link ${key.issuer}=${key.subject}${key.tenant ? ` --tenant ${key.tenant}` : ''}), or enable jit for this issuer`;
}

function userMissing(report: Report, input: ReportInput, key: LookupKey, unverified: boolean) {
  const described = (input.seen.nearMisses ?? []).map((m) => describeMiss(input, m, key));
  const first = described[0];
  report.set(
    'user',
    'fail',
    `no ${key.kind} for ${key.strategy} ${JSON.stringify(key.subject)}${key.tenant ? ` in tenant ${JSON.stringify(key.tenant)}` : ''}` +
      (described.length
        ? `; near misses: ${described.map((d) => d.text).join('; ')}`
        : '; no near misses (not a case, issuer, tenant, namespace, column, deletion or email mix-up)'),
    {
      nearMisses: described.map((d) => ({
        kind: d.kind,
        finding: d.text,
        fix: d.fix,
        user: d.user,
      })),
      ...(input.seen.nearMissError ? { nearMissError: input.seen.nearMissError } : {}),
    },
    { unverified, fix: first?.fix ?? neverSynced(input, key) },
  );
}

function describeMiss(input: ReportInput, m: NearMiss, key: LookupKey) {
  const { now } = input;
  const iat = issuedAt(input);
  const u = m.user;
  const who = `${u.id}${u.email ? ` <${u.email}>` : ''}`;
  const after =
    iat && u.createdAt.getTime() > iat.getTime()
      ? ` (created ${relativeTime(u.createdAt, now)}, after the token was issued)`
      : '';
  const deleted = u.deletedAt ? ' (soft-deleted)' : '';
  const identity = m.identity;
  const theirTenant = identity?.tenant ?? u.tenant;
  let text: string;
  let fix: string;
  switch (m.kind) {
    case 'case':
      text = `${who} ${identity ? `is linked as ${shown(identity.subject)}` : `has username ${shown(u.username)}`}, which differs only in letter case`;
      fix = `subjects are compared exactly: fix the stored subject (identities unlink/link ${u.id}) to ${JSON.stringify(key.subject)}, or set issuers[].subject.normalize.lowercase: true and store subjects lowercase`;
      break;
    case 'issuer':
      text = `${who} has this subject under another issuer${identity ? `: ${identity.issuer} ${inTenant(identity.tenant)} as ${shown(identity.subject)}` : ''}`;
      fix = `the user is linked to ${identity ? identity.issuer : 'another issuer'}, not ${key.issuer}: link it to this issuer too (cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject}) if both IdPs name the same person`;
      break;
    case 'tenant':
      text = `${who} has this subject ${inTenant(theirTenant)}, the token's key is ${inTenant(key.tenant)}`;
      fix = `tenant mismatch: the token's key is ${inTenant(key.tenant)} but the user is ${inTenant(theirTenant)}; fix the tenant the IdP emits, or link the user ${inTenant(key.tenant)}`;
      break;
    case 'column':
      text = `${who} has ${m.column ?? 'another column'} = ${JSON.stringify(key.subject)}, but this issuer looks up by ${key.strategy}`;
      fix = `wrong lookup column: the subject is the user's ${m.column ?? 'value in another column'}; ${m.column ? `set issuers[].subject.lookup: ${m.column}, or ` : ''}link the identity (cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject})`;
      break;
    case 'deleted':
      text = `${who}${deleted} has the token's email${u.deletedAt ? `, deleted ${relativeTime(u.deletedAt, now)}` : ''}`;
      fix = `a matching user was deleted: restore it (cli users restore ${u.id}) and link it, if that deletion was a mistake`;
      break;
    case 'unlinked': {
      const client = input.config.scim.clients.find(
        (c) => c.issuer === key.issuer && c.tenant === key.tenant,
      );
      const by = client ? `SCIM client ${client.id}` : 'SCIM';
      const attribute = client?.subjectAttribute ?? 'externalId';
      text = `${who} was provisioned by ${by} with no subject yet (no ${attribute}), so no token of ${key.issuer} reaches it`;
      fix = `the IdP must send the user's ${attribute} = ${JSON.stringify(key.subject)} (a SCIM PUT or PATCH that adds it links the user at once): map the IdP attribute that carries the token's subject to ${attribute}`;
      break;
    }
    case 'namespace':
      text = `${who} has this ${key.strategy} in the namespace of ${u.namespace}, another issuer (its SCIM client's or JIT's users), which ${key.issuer}'s lookups never search`;
      fix = `each issuer's users are its own: if both IdPs name the same person, create the user as an operator (cli users create, namespace ''), whose users every issuer's ${key.strategy} lookups find, or look this issuer up by subject (subject.lookup: external) and link it (cli identities link ${u.id} --issuer ${key.issuer} --subject …)`;
      break;
    case 'email':
      text = `${who} has the token's email but no link to ${key.issuer} / ${JSON.stringify(key.subject)}`;
      fix = `link the identity: cli identities link ${u.id} --issuer ${key.issuer} --subject ${key.subject}${key.tenant ? ` --tenant ${key.tenant}` : ''} (JIT never links by email)`;
      break;
  }
  return {
    kind: m.kind,
    text: text + after + (m.kind === 'deleted' ? '' : deleted),
    fix,
    user: summary(u, now),
  };
}

export function writeJit(report: Report, input: ReportInput): void {
  const { ctx, steps, seen } = input;
  const key = reportKey(input);
  const policy = key ? ctx?.issuer?.config : undefined;
  if (!key || !policy) {
    report.set('jit', 'skip', 'no lookup key');
    return;
  }
  const unverified = isUnverified(input);
  const allowed = jitAllowed(policy, key.kind);
  const label = key.kind === 'service' ? 'serviceAccounts.jit' : 'jit.enabled';
  const storeUser = seen.storeUser;
  if (storeUser) {
    report.set('jit', 'skip', `not needed: the user exists (${label}: ${allowed})`, {
      enabled: allowed,
    });
    return;
  }
  if (!allowed) {
    report.set(
      'jit',
      storeUser === null ? 'fail' : 'skip',
      `JIT is off for this issuer (${label}: false): a missing user is USER_NOT_FOUND`,
      { enabled: false },
      {
        unverified,
        fix:
          storeUser === null
            ? `create the user ahead of the first request (admin API / SCIM / import), or set issuers[].${label}: true`
            : undefined,
      },
    );
    return;
  }
  const error = steps.error('jit') ?? seen.jitInputError;
  if (error) {
    const fromStore = seen.jitInput !== undefined;
    report.set(
      'jit',
      'fail',
      `${error.reason}: ${messageOf(error)}`,
      { enabled: true, requiredClaims: policy.jit.requiredClaims },
      {
        unverified,
        fix: fromStore
          ? `the store refuses this user: a live user ${inTenant(key.tenant)} already holds its email or username (see the user step's near misses): link this identity to that user (cli identities link USER_ID --issuer ${key.issuer} --subject ${JSON.stringify(key.subject)}), or change the other user`
          : `the IdP must send the claims JIT needs (${policy.jit.requiredClaims.join(', ') || 'none'}, mapped by issuers[].jit.map), or create the user ahead of time`,
      },
    );
    return;
  }
  const wouldCreate = seen.jitInput;
  report.set(
    'jit',
    steps.outcome('jit') && storeUser === null ? 'pass' : 'skip',
    wouldCreate
      ? `would provision a ${wouldCreate.kind}${wouldCreate.email ? ` <${wouldCreate.email}>` : ''}${wouldCreate.username ? ` (${wouldCreate.username})` : ''}, roles ${JSON.stringify(wouldCreate.roles ?? [])} (not done: diagnosis has no side effects)`
      : 'not reached: the user store could not be asked',
    { enabled: true, requiredClaims: policy.jit.requiredClaims, wouldCreate },
    { unverified },
  );
}

export function writeRevocation(report: Report, input: ReportInput): void {
  const { ctx, steps, now, seen } = input;
  const token = ctx?.token;
  if (!token) return;
  const jti = token.info.jti || undefined;
  const jtiError = steps.error('revocation');
  const jtiRevoked = jti
    ? jtiError?.reason === 'TOKEN_REVOKED'
      ? true
      : jtiError || !steps.outcome('revocation')
        ? undefined
        : false
    : undefined;
  const user = ctx.user ?? seen.storeUser ?? undefined;
  const tva = user?.tokensValidAfter ?? undefined;
  const iatMs = token.issuedAtMs;
  const unverified = steps.outcome('revocation')?.unverified ?? false;
  const details = {
    jti: jti ?? null,
    jtiRevoked: jtiRevoked ?? null,
    tokensValidAfter: tva ? humanTime(tva, now) : null,
    issuedAt: iatMs !== undefined ? humanTime(new Date(iatMs), now) : null,
  };
  if (jtiRevoked) {
    report.set('revocation', 'fail', `jti ${JSON.stringify(jti)} is on the deny-list`, details, {
      unverified,
      fix: 'the token was revoked on purpose: sign in again for a new token',
    });
    return;
  }
  const session = revokedSessionOf(user?.signals, token.sessionId, iatMs);
  const signalSignOut =
    tva && user?.signals?.signOut?.at === tva.getTime() ? user.signals.signOut : undefined;
  if (
    steps.error('signedOut') &&
    (!tva || (iatMs !== undefined && iatMs >= tva.getTime())) &&
    session
  ) {
    report.set(
      'revocation',
      'fail',
      `${bySignal(session, 'revoked').slice(2)}: the token's session${token.sessionId ? ` ${JSON.stringify(token.sessionId)}` : ' (the token has no sid)'} was revoked after it was issued`,
      { ...details, sessionId: token.sessionId ?? null },
      { unverified, fix: 'the identity provider ended this session: sign in again' },
    );
    return;
  }
  if (steps.error('signedOut')) {
    report.set(
      'revocation',
      'fail',
      `issued ${iatMs !== undefined ? relativeTime(new Date(iatMs), now) : '(no iat)'}, before the user signed out everywhere ${tva ? relativeTime(tva, now) : ''}${bySignal(signalSignOut, 'revoked')}`,
      details,
      {
        unverified,
        fix: 'the user signed out everywhere after this token was issued: sign in again',
      },
    );
    return;
  }
  report.set(
    'revocation',
    jti && jtiRevoked === undefined ? 'warn' : 'pass',
    `${jti ? (jtiRevoked === undefined ? `jti ${JSON.stringify(jti)} could not be checked` : `jti ${JSON.stringify(jti)} not revoked`) : 'no jti'}; ${tva ? `tokens valid after ${relativeTime(tva, now)}, issued after that` : 'no sign-out-everywhere'}`,
    details,
    { unverified },
  );
}

/**
 * `; revoked by session-revoked from okta at 2026-12-07T12:00:00.000Z (event 1f2e…)` when a
 * shared signal did it; empty otherwise.
 */
function bySignal(mark: SignalMark | undefined, verb: string): string {
  if (!mark) return '';
  return `; ${verb} by ${mark.event} from ${mark.transmitter} at ${new Date(mark.at).toISOString()} (event ${mark.jti})`;
}
