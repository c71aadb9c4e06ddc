import type { IssuerConfig, SsfAction } from '@resolver/config';
import {
  type LookupKey,
  type SignalTables,
  statusStateOf,
  type UserChanges,
  type UserRecord,
} from '@resolver/identity';
import {
  applySignal,
  decideStatus,
  EMPTY_SIGNALS,
  normaliseSubject,
  provisioningInput,
  type SignalChange,
  type SignalMark,
} from '@resolver/policy';
import { isResolutionError } from '@resolver/reasons';
import { SetError } from '@resolver/tokens';

/** What applying an event to a user did. */
export type ActionOutcome = 'applied' | 'recorded' | 'stale' | 'ignored';

/** One event for one user, as the action sees it. */
export interface UserEvent {
  readonly action: SsfAction;
  readonly mark: SignalMark;
  /** The key that found the user (its strategy says which identifier an identifier event moves). */
  readonly key: LookupKey;
  readonly sessionId?: string;
  /** The event's members (null prototype): `claims`, `new-value`, … */
  readonly event: Readonly<Record<string, unknown>>;
  /** The resolver issuer the transmitter acts for: its subject policy and JIT map. */
  readonly issuer: Pick<IssuerConfig, 'issuer' | 'subject' | 'jit'>;
}

/**
 * Applies one event's action to the user (row-locked in the signal's transaction): each a state
 * change of `users` or `external_identities`, so the change notification carries it to every
 * replica. Status changes go through `decideStatus` as writer `signals` (operator decisions
 * win: never out of an operator's lock or disable). Ordered kinds follow `applySignal`: an event
 * older than the last one applied never undoes it (`stale`).
 */
export async function applyUserEvent(
  tables: SignalTables,
  user: UserRecord,
  e: UserEvent,
): Promise<ActionOutcome> {
  const signals = user.signals ?? EMPTY_SIGNALS;
  const decide = (change: SignalChange) => applySignal(signals, change, e.mark);
  switch (e.action) {
    case 'none':
      return 'ignored';
    case 'record':
      return 'recorded';
    case 'sign-out': {
      const d = decide({ kind: 'sign-out' });
      if (d.stale) return 'stale';
      await tables.users.recordSignals(user.id, d.state, new Date(e.mark.at));
      return 'applied';
    }
    case 'revoke-session': {
      if (e.sessionId === undefined)
        return applyUserEvent(tables, user, { ...e, action: 'sign-out' });
      const d = decide({ kind: 'revoke-session', sid: e.sessionId });
      if (d.stale) return 'stale';
      await tables.users.recordSignals(user.id, d.state);
      return 'applied';
    }
    case 'disable':
    case 'enable': {
      const d = decide({ kind: 'status', status: e.action === 'disable' ? 'disabled' : 'active' });
      if (d.stale) return 'stale';
      const next = decideStatus(
        statusStateOf(user),
        'signals',
        e.action === 'disable' ? 'disabled' : 'active',
      );
      await tables.users.setStatus(user.id, next);
      await tables.users.recordSignals(user.id, d.state);
      return 'applied';
    }
    case 'delete':
      await tables.users.softDelete(user.id);
      return 'applied';
    case 'refresh-claims': {
      const d = decide({ kind: 'claims' });
      if (d.stale) return 'stale';
      const changes = claimChanges(user, e);
      if (Object.keys(changes).length > 0) await tables.users.update(user.id, changes);
      // Written even when no mapped claim changed: the notification drops every cached answer.
      await tables.users.recordSignals(user.id, d.state);
      return 'applied';
    }
    case 'repoint':
    case 'unlink': {
      const d = decide({ kind: 'identifier' });
      if (d.stale) return 'stale';
      const moved = await moveIdentifier(tables, user, e);
      if (!moved) return 'ignored';
      await tables.users.recordSignals(user.id, d.state);
      return 'applied';
    }
  }
}

/** The user fields the issuer's JIT map fills from the event's `claims`, validated by JIT's rules. */
function claimChanges(user: UserRecord, e: UserEvent): UserChanges {
  const claims = own(e.event, 'claims');
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return {};
  let input;
  try {
    input = provisioningInput(e.key, claims as Record<string, unknown>, {
      ...e.issuer.jit,
      requiredClaims: [],
      defaultRoles: [],
    });
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    throw new SetError('invalid_request', `events.claims: ${error.message}`);
  }
  const changes: { -readonly [K in keyof UserChanges]: UserChanges[K] } = {};
  const attributes: Record<string, unknown> = { ...user.attributes };
  for (const [claim, target] of Object.entries(e.issuer.jit.map)) {
    if (own(claims, claim) === undefined) continue;
    if (target === 'email' && e.key.strategy !== 'email') changes.email = input.email ?? null;
    else if (target === 'username' && e.key.strategy !== 'username')
      changes.username = input.username ?? null;
    else if (target === 'displayName') changes.displayName = input.displayName ?? null;
    else if (target === 'roles') changes.roles = input.roles ?? [];
    else if (target.startsWith('attributes.')) {
      const name = target.slice('attributes.'.length);
      attributes[name] = input.attributes?.[name];
      changes.attributes = attributes;
    }
  }
  return changes;
}

/**
 * identifier-changed (`repoint`): the identifier that found the user becomes the event's
 * `new-value` (the federated link re-pointed, or the email / username changed); identifier-
 * recycled (`unlink`): the identifier is taken off the user, so a new holder of it never lands
 * on this account. False when the identifier is not one this store can move (a lookup by id).
 */
async function moveIdentifier(
  tables: SignalTables,
  user: UserRecord,
  e: UserEvent,
): Promise<boolean> {
  const newValue = e.action === 'repoint' ? newIdentifier(e) : undefined;
  switch (e.key.strategy) {
    case 'external': {
      const identity = (await tables.identities.listForUser(user.id)).find(
        (i) =>
          i.issuer === e.key.issuer && i.tenant === e.key.tenant && i.subject === e.key.subject,
      );
      if (!identity) return false;
      await tables.identities.delete(user.id, identity.id);
      if (newValue !== undefined)
        await tables.identities.insert(user.id, { ...e.key, subject: newValue });
      return true;
    }
    case 'email':
      await tables.users.update(user.id, { email: newValue ?? null });
      return true;
    case 'username':
      await tables.users.update(user.id, { username: newValue ?? null });
      return true;
    case 'id':
      return false;
  }
}

/** RISC identifier-changed's `new-value`, under the issuer's subject policy. */
function newIdentifier(e: UserEvent): string {
  const raw = own(e.event, 'new-value');
  if (e.key.strategy === 'email') {
    if (typeof raw !== 'string' || !raw.includes('@') || raw.length > 320)
      throw new SetError('invalid_request', 'event member "new-value" must be an email address');
  }
  try {
    return normaliseSubject(raw, { ...e.issuer.subject, claim: 'new-value' });
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    throw new SetError('invalid_request', `event member "new-value": ${error.message}`);
  }
}

function own(o: object, name: string): unknown {
  return Object.hasOwn(o, name) ? (o as Record<string, unknown>)[name] : undefined;
}
