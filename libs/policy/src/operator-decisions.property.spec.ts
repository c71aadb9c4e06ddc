import fc from 'fast-check';
import {
  decideStatus,
  type Restriction,
  STATUS_WRITERS,
  standingDecisions,
  type StatusRequest,
  type StatusState,
  statusOf,
  type StatusWriter,
  type UserStatus,
} from './operator-decisions';

/**
 * Sequences of writes from every writer, interleaved at random: operator lock / unlock /
 * disable / enable, SCIM active true/false (a PATCH, a PUT, an adoption), import rows, JIT,
 * shared signals, and a DBA's UPDATE of the status column alone. Each step is checked against
 * what the rule promises for one write, and the history against what it promises across writes.
 */
type Step =
  | { readonly kind: 'write'; readonly writer: StatusWriter; readonly request: StatusRequest }
  | { readonly kind: 'dba'; readonly status: UserStatus };

const STATUSES: UserStatus[] = ['active', 'disabled', 'locked'];
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      writer: fc.constantFrom(...STATUS_WRITERS),
      request: fc.constantFrom<StatusRequest>(...STATUSES, 'unlocked'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dba' as const),
      status: fc.constantFrom(...STATUSES),
    }),
  },
);
const creation = fc.record({
  writer: fc.constantFrom(...STATUS_WRITERS),
  request: fc.constantFrom(...STATUSES),
});
const RANK: Record<UserStatus, number> = { active: 0, disabled: 1, locked: 2 };

/** What the history promises: the operator's last request, and external restrictions not yet lifted. */
class History {
  operatorLast: StatusRequest | undefined;
  readonly pending = new Map<StatusWriter, Restriction>();

  operator(request: StatusRequest) {
    this.operatorLast = request;
    if (request === 'locked') return;
    // enable overrides every decision; disable and unlock lift every lock.
    for (const [w, r] of this.pending)
      if (request === 'active' || r === 'locked') this.pending.delete(w);
  }

  external(writer: StatusWriter, request: StatusRequest) {
    const held = this.pending.get(writer);
    if (request === 'locked' || (request === 'disabled' && held !== 'locked'))
      this.pending.set(writer, request);
    else if ((request === 'active' || request === 'unlocked') && held === 'disabled')
      this.pending.delete(writer);
  }

  check(state: StatusState) {
    // What the operator set last holds against every external write since...
    if (this.operatorLast === 'locked') expect(state.status).toBe('locked');
    if (this.operatorLast === 'disabled') expect(state.status).not.toBe('active');
    // ...and no external restriction is swallowed by another writer's later writes.
    for (const restriction of this.pending.values())
      expect(RANK[state.status]).toBeGreaterThanOrEqual(RANK[restriction]);
  }
}

/** One external write: what it may and may not do. */
function checkExternal(
  before: StatusState,
  after: StatusState,
  writer: StatusWriter,
  request: StatusRequest,
) {
  const standing = standingDecisions(before);
  // No external writer ever moves a user out of locked.
  if (before.status === 'locked') expect(after.status).toBe('locked');
  // It never lifts, adds or changes another writer's decision.
  for (const other of STATUS_WRITERS)
    if (other !== writer) expect(after.decisions[other]).toBe(standing[other]);
  // It lifts only its own deactivation, and only when asked to.
  if (RANK[after.status] < RANK[before.status]) {
    expect(['active', 'unlocked']).toContain(request);
    expect(standing[writer]).toBe('disabled');
  }
  // A restriction it asks for takes effect.
  if (request === 'disabled' || request === 'locked')
    expect(RANK[after.status]).toBeGreaterThanOrEqual(RANK[request]);
}

/** What the users_status_by_hand trigger stores for a status an UPDATE sets by hand. */
const byHand = (status: UserStatus): StatusState => ({
  status,
  decisions: status === 'active' ? {} : { operator: status },
});

describe('decideStatus (property): operator decisions win, whatever the sequence of writes', () => {
  it('keeps every promise at every step and across the history', () => {
    fc.assert(
      fc.property(creation, fc.array(step, { maxLength: 40 }), (created, steps) => {
        let state = decideStatus(null, created.writer, created.request);
        const history = new History();
        if (created.writer === 'operator') history.operator(created.request);
        else history.external(created.writer, created.request);

        for (const s of steps) {
          const before = state;
          if (s.kind === 'dba') {
            // A status set by hand in SQL: the users_status_by_hand trigger makes it the
            // operator's decision alone (a write that changes nothing is no decision).
            if (s.status !== before.status) {
              state = byHand(s.status);
              history.operator('active');
              history.operator(s.status);
            }
          } else {
            state = decideStatus(before, s.writer, s.request);
            // The status is always the strictest standing decision.
            expect(statusOf(state.decisions)).toBe(state.status);
            if (s.writer === 'operator') {
              history.operator(s.request);
              // The operator gets exactly what it asks for (unlock: no lock left).
              if (s.request === 'unlocked') expect(state.status).not.toBe('locked');
              else expect(state.status).toBe(s.request);
            } else {
              checkExternal(before, state, s.writer, s.request);
              history.external(s.writer, s.request);
            }
          }
          history.check(state);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('an external write never undoes a decision, whatever state is stored (decisions that do not explain the status included)', () => {
    const decisions = fc.dictionary(
      fc.constantFrom(...STATUS_WRITERS),
      fc.constantFrom<Restriction>('disabled', 'locked'),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...STATUSES),
        decisions,
        fc.constantFrom(...STATUS_WRITERS.filter((w) => w !== 'operator')),
        fc.constantFrom<StatusRequest>(...STATUSES, 'unlocked'),
        (status, stored, writer, request) => {
          const before = { status, decisions: stored };
          checkExternal(before, decideStatus(before, writer, request), writer, request);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
