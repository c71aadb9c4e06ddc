/**
 * "Operator decisions win": the one rule for a user's status, called by every writer (admin,
 * import, SCIM, JIT, and later shared signals) before it writes. Pure: no I/O.
 *
 * A user's status is not one writer's field. Each writer that restricts a user leaves a
 * *decision* (`disabled` or `locked`) that stands until that writer lifts it, and the status is
 * the strictest decision that stands (`active` when none does). So:
 *
 * - an external writer (anyone but the operator) may disable or lock, and may lift only its own
 *   deactivation: it can never lift another writer's decision, never re-enable a user an operator
 *   disabled, and never move a user out of `locked`, whatever the sequence of its writes;
 * - a restriction is never swallowed: a SCIM deactivation that arrives while an operator's lock
 *   holds still stands when the operator unlocks (a leaver stays out);
 * - the operator can do anything: `active`, `disabled` and `locked` set exactly that status
 *   (`active` overrides every writer's decision), and `unlocked` lifts every lock while a
 *   deactivation that stands keeps the user disabled.
 */

export type UserStatus = 'active' | 'disabled' | 'locked';

/** Who writes a user's status. `operator`: the admin API, its CLI and the console. */
export type StatusWriter = 'operator' | 'import' | 'scim' | 'jit' | 'signals';
export const STATUS_WRITERS: readonly StatusWriter[] = [
  'operator',
  'import',
  'scim',
  'jit',
  'signals',
];

/** A restriction a writer has put on a user and not lifted. */
export type Restriction = 'disabled' | 'locked';

/** The restrictions that stand, by writer (a writer with none is absent). */
export type StatusDecisions = Readonly<Partial<Record<StatusWriter, Restriction>>>;

/** A user's status and the decisions it is made of. */
export interface StatusState {
  readonly status: UserStatus;
  readonly decisions: StatusDecisions;
}

/** What a writer asks for. `unlocked` (the operator's unlock) lifts every lock and nothing else. */
export type StatusRequest = UserStatus | 'unlocked';

const RANK: Readonly<Record<UserStatus, number>> = { active: 0, disabled: 1, locked: 2 };

/** The status a set of decisions makes: the strictest one, or `active`. */
export function statusOf(decisions: StatusDecisions): UserStatus {
  let status: UserStatus = 'active';
  for (const writer of STATUS_WRITERS) {
    const d = decisions[writer];
    if (d && RANK[d] > RANK[status]) status = d;
  }
  return status;
}

/**
 * The new status when `writer` asks for `request` on a user whose status is `current` (`null`
 * for a user being created). Stored state that its decisions do not explain (a DBA's UPDATE of
 * `status` alone, or rows from before decisions were kept) counts as the operator's: an
 * operator set that status.
 */
export function decideStatus(
  current: StatusState | null,
  writer: StatusWriter,
  request: StatusRequest,
): StatusState {
  const base = current ? standingDecisions(current) : {};
  const decisions =
    writer === 'operator' ? operatorSets(base, request) : externalAsks(base, writer, request);
  return { status: statusOf(decisions), decisions };
}

/**
 * The decisions that stand behind `state.status`: its stored ones, or, when they do not explain
 * it, the operator's setting of that status over them.
 */
export function standingDecisions(state: StatusState): StatusDecisions {
  const decisions = readDecisions(state.decisions);
  return statusOf(decisions) === state.status ? decisions : operatorSets(decisions, state.status);
}

function operatorSets(decisions: StatusDecisions, request: StatusRequest): StatusDecisions {
  switch (request) {
    case 'active':
      return {};
    case 'disabled':
      return { ...withoutLocks(decisions), operator: 'disabled' };
    case 'locked':
      return { ...decisions, operator: 'locked' };
    case 'unlocked':
      return withoutLocks(decisions);
  }
}

function externalAsks(
  decisions: StatusDecisions,
  writer: Exclude<StatusWriter, 'operator'>,
  request: StatusRequest,
): StatusDecisions {
  const own = decisions[writer];
  switch (request) {
    case 'active':
    case 'unlocked':
      // Only its own deactivation; a lock, even its own, is lifted only by the operator.
      return own === 'disabled' ? without(decisions, writer) : decisions;
    case 'disabled':
      return own === 'locked' ? decisions : { ...decisions, [writer]: 'disabled' };
    case 'locked':
      return { ...decisions, [writer]: 'locked' };
  }
}

function without(decisions: StatusDecisions, writer: StatusWriter): StatusDecisions {
  const { [writer]: _, ...rest } = decisions;
  return rest;
}

function withoutLocks(decisions: StatusDecisions): StatusDecisions {
  const out: Partial<Record<StatusWriter, Restriction>> = {};
  for (const writer of STATUS_WRITERS)
    if (decisions[writer] === 'disabled') out[writer] = 'disabled';
  return out;
}

/**
 * Decisions as stored (a jsonb column): only known writers' own properties with a known
 * restriction are kept, so an odd value a DBA wrote can never name a writer that is not one.
 */
export function readDecisions(raw: unknown): StatusDecisions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return NO_DECISIONS;
  let out: Partial<Record<StatusWriter, Restriction>> | undefined;
  for (const writer of STATUS_WRITERS) {
    if (!Object.hasOwn(raw, writer)) continue;
    const d = (raw as Record<string, unknown>)[writer];
    if (d === 'disabled' || d === 'locked') (out ??= {})[writer] = d;
  }
  return out ?? NO_DECISIONS;
}

/** What nearly every user has: shared and frozen, not one empty object per cached record. */
const NO_DECISIONS: StatusDecisions = Object.freeze({});
