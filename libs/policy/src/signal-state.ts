/**
 * What shared signals (SSF: CAEP / RISC events) have done to one user, kept with the user
 * (`users.signals`) so that every replica reads it with the user and the existing change
 * notification carries it; and the one rule for applying an event to it. Pure: no I/O.
 *
 * Ordering: an event older than the last one applied to the same user and kind (by its
 * `event_timestamp`) never undoes a newer state. Revocations only ever grow (a sign-out moves
 * `tokens_valid_after` forward, never back; a revoked session stays revoked), and a purge is
 * final, so those apply whatever their order; the status (disabled or enabled by a signal) and
 * the claims follow the newest event. So any order of the same events ends in the same state.
 */

/** Kinds whose newest event wins. */
export type SignalKind = 'status' | 'claims' | 'identifier';
export const SIGNAL_KINDS: readonly SignalKind[] = ['status', 'claims', 'identifier'];

/** Which event from which transmitter did it, and when (the event's `event_timestamp`). */
export interface SignalMark {
  /** `event_timestamp` (or the SET's `iat`), epoch ms. */
  readonly at: number;
  readonly transmitter: string;
  /** The event type's short name (`session-revoked`). */
  readonly event: string;
  /** The SET's `jti`. */
  readonly jti: string;
}

export interface SignalState {
  /** The last event applied per kind. */
  readonly marks: Readonly<Partial<Record<SignalKind, SignalMark>>>;
  /** The newest sign-out a signal asked for: tokens issued before `at` are refused. */
  readonly signOut?: SignalMark;
  /** Revoked sessions by `sid`: that session's tokens issued before `at` are refused. */
  readonly sessions: Readonly<Record<string, SignalMark>>;
}

export const EMPTY_SIGNALS: SignalState = Object.freeze({
  marks: Object.freeze({}),
  sessions: Object.freeze(Object.create(null) as Record<string, SignalMark>),
});

/** Revoked sessions kept per user; the oldest go first (their tokens have long expired). */
export const MAX_REVOKED_SESSIONS = 64;
/** Longest session id kept (longer ones revoke the whole user instead). */
export const MAX_SESSION_ID_LENGTH = 256;

/** What an event asks of a user's state (the action, as far as the state sees it). */
export type SignalChange =
  | { readonly kind: 'sign-out' }
  | { readonly kind: 'revoke-session'; readonly sid: string }
  | { readonly kind: 'status'; readonly status: 'disabled' | 'active' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'claims' }
  | { readonly kind: 'identifier' };

/** The answer of {@link applySignal}: the new state, or `stale` when a newer event holds. */
export type SignalDecision =
  | { readonly stale: true; readonly newer: SignalMark }
  | { readonly stale: false; readonly state: SignalState };

/** Which state kind an ordered change belongs to (none for the ones that only grow). */
function orderedKind(change: SignalChange): SignalKind | undefined {
  switch (change.kind) {
    case 'status':
      return 'status';
    case 'claims':
      return 'claims';
    case 'identifier':
      return 'identifier';
    case 'sign-out':
    case 'revoke-session':
    case 'delete':
      return undefined;
  }
}

/**
 * Applies one event to the state. For an ordered kind, an event older than the last applied
 * one is `stale` (nothing changes); at the same instant the stricter one wins (`disabled` over
 * `active`), so a tie ends the same whichever arrives first.
 */
export function applySignal(
  state: SignalState,
  change: SignalChange,
  mark: SignalMark,
): SignalDecision {
  const kind = orderedKind(change);
  if (kind !== undefined) {
    const last = state.marks[kind];
    if (last && !supersedes(mark, last, change)) return { stale: true, newer: last };
    return { stale: false, state: { ...state, marks: { ...state.marks, [kind]: mark } } };
  }
  switch (change.kind) {
    case 'sign-out':
      return {
        stale: false,
        state: state.signOut && state.signOut.at >= mark.at ? state : { ...state, signOut: mark },
      };
    case 'revoke-session': {
      const held = Object.hasOwn(state.sessions, change.sid)
        ? state.sessions[change.sid]
        : undefined;
      if (held && held.at >= mark.at) return { stale: false, state };
      return {
        stale: false,
        state: { ...state, sessions: newestSessions({ ...state.sessions, [change.sid]: mark }) },
      };
    }
    case 'delete':
    case 'status':
    case 'claims':
    case 'identifier':
      // `delete`: final, applied whatever its order; the state records nothing more.
      return { stale: false, state };
  }
}

function supersedes(mark: SignalMark, last: SignalMark, change: SignalChange): boolean {
  if (mark.at !== last.at) return mark.at > last.at;
  // A tie: `disabled` wins (over `active`, and over itself, which changes nothing); for the
  // other kinds the one applied first stays.
  return change.kind === 'status' && change.status === 'disabled';
}

function newestSessions(sessions: Record<string, SignalMark>): Record<string, SignalMark> {
  const entries = Object.entries(sessions);
  if (entries.length <= MAX_REVOKED_SESSIONS) return sessions;
  entries.sort((a, b) => b[1].at - a[1].at);
  return Object.fromEntries(entries.slice(0, MAX_REVOKED_SESSIONS));
}

/**
 * The session revocation that refuses a token, if any: its own session's, or, for a token that
 * carries no `sid`, the newest of any (it could be that session's token). Tokens of another
 * session are not affected. `issuedAtMs` undefined (no `iat`) counts as issued before.
 */
export function revokedSessionOf(
  state: SignalState | undefined,
  sid: string | undefined,
  issuedAtMs: number | undefined,
): SignalMark | undefined {
  if (!state) return undefined;
  const before = (m: SignalMark | undefined) =>
    m !== undefined && (issuedAtMs === undefined || issuedAtMs < m.at) ? m : undefined;
  if (sid !== undefined)
    return before(Object.hasOwn(state.sessions, sid) ? state.sessions[sid] : undefined);
  // No array allocated: this runs on every warm request of a user with signal state.
  let newest: SignalMark | undefined;
  for (const sid in state.sessions) {
    if (!Object.hasOwn(state.sessions, sid)) continue;
    const mark = state.sessions[sid];
    if (before(mark) && (!newest || (mark as SignalMark).at > newest.at)) newest = mark;
  }
  return newest;
}

/**
 * The state as stored (a jsonb column): own properties only, known kinds, well-formed marks;
 * anything else is dropped, so an odd value a DBA wrote can never revoke or restore anything.
 */
export function readSignals(raw: unknown): SignalState {
  if (!isObject(raw)) return EMPTY_SIGNALS;
  const marks: Partial<Record<SignalKind, SignalMark>> = {};
  const rawMarks = ownValue(raw, 'marks');
  if (isObject(rawMarks))
    for (const kind of SIGNAL_KINDS) {
      const m = readMark(ownValue(rawMarks, kind));
      if (m) marks[kind] = m;
    }
  const sessions: Record<string, SignalMark> = Object.create(null) as Record<string, SignalMark>;
  const rawSessions = ownValue(raw, 'sessions');
  if (isObject(rawSessions))
    for (const sid of Object.keys(rawSessions)) {
      const m = readMark(ownValue(rawSessions, sid));
      if (m && sid.length <= MAX_SESSION_ID_LENGTH) sessions[sid] = m;
    }
  const signOut = readMark(ownValue(raw, 'signOut'));
  if (signOut) return { marks, sessions, signOut };
  // Nearly every user has no signal (the column's default is '{}'): they share one frozen state
  // instead of holding an empty one each (an empty null-prototype object is a dictionary; with
  // 20,000 cached users the empty states were ~5 MB of the heap after a token flood).
  if (isEmpty(marks) && isEmpty(sessions)) return EMPTY_SIGNALS;
  return { marks, sessions };
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

function readMark(raw: unknown): SignalMark | undefined {
  if (!isObject(raw)) return undefined;
  const at = ownValue(raw, 'at');
  const transmitter = ownValue(raw, 'transmitter');
  const event = ownValue(raw, 'event');
  const jti = ownValue(raw, 'jti');
  if (
    typeof at !== 'number' ||
    !Number.isFinite(at) ||
    typeof transmitter !== 'string' ||
    typeof event !== 'string' ||
    typeof jti !== 'string'
  )
    return undefined;
  return { at, transmitter, event, jti };
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ownValue(o: object, name: string): unknown {
  return Object.hasOwn(o, name) ? (o as Record<string, unknown>)[name] : undefined;
}
