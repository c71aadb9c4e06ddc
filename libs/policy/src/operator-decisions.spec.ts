import {
  decideStatus,
  readDecisions,
  type StatusRequest,
  type StatusState,
  statusOf,
  type StatusWriter,
} from './operator-decisions';

const ACTIVE: StatusState = { status: 'active', decisions: {} };
type Write = readonly [StatusWriter, StatusRequest];
/** Replays writes from `start`, as each writer would in turn. */
const replay = (start: StatusState, ...writes: Write[]) =>
  writes.reduce((s, [writer, request]) => decideStatus(s, writer, request), start);

describe('decideStatus: operator decisions win', () => {
  it('a SCIM client cannot unlock an operator lock in two PATCHes (active false, then true)', () => {
    const locked = decideStatus(ACTIVE, 'operator', 'locked');
    const off = decideStatus(locked, 'scim', 'disabled');
    expect(off.status).toBe('locked');
    const on = decideStatus(off, 'scim', 'active');
    expect(on).toEqual({ status: 'locked', decisions: { operator: 'locked' } });
  });

  it('SCIM adoption (active defaults to true) does not re-enable a user an operator disabled', () => {
    const jit = decideStatus(null, 'jit', 'active');
    const disabled = decideStatus(jit, 'operator', 'disabled');
    expect(decideStatus(disabled, 'scim', 'active')).toEqual({
      status: 'disabled',
      decisions: { operator: 'disabled' },
    });
  });

  it('an external writer may disable, and lift only its own deactivation', () => {
    const off = decideStatus(ACTIVE, 'scim', 'disabled');
    expect(off).toEqual({ status: 'disabled', decisions: { scim: 'disabled' } });
    expect(decideStatus(off, 'scim', 'active')).toEqual(ACTIVE);
    // Not another writer's: import's and the operator's stand.
    const both = decideStatus(off, 'import', 'disabled');
    expect(decideStatus(both, 'scim', 'active')).toEqual({
      status: 'disabled',
      decisions: { import: 'disabled' },
    });
    expect(decideStatus(both, 'signals', 'active')).toEqual(both);
  });

  it('a lock, even an external writer’s own, is lifted only by the operator', () => {
    const locked = decideStatus(ACTIVE, 'import', 'locked');
    expect(decideStatus(locked, 'import', 'active').status).toBe('locked');
    expect(decideStatus(locked, 'import', 'disabled').status).toBe('locked');
    expect(decideStatus(locked, 'operator', 'unlocked')).toEqual(ACTIVE);
  });

  it('a deactivation that arrives during an operator lock still stands after the unlock', () => {
    const s = replay(
      ACTIVE,
      ['operator', 'locked'],
      ['scim', 'disabled'],
      ['operator', 'unlocked'],
    );
    expect(s).toEqual({ status: 'disabled', decisions: { scim: 'disabled' } });
    // The operator can still override it: enable sets exactly active.
    expect(decideStatus(s, 'operator', 'active')).toEqual(ACTIVE);
  });

  it('the operator sets exactly what it asks for', () => {
    const start = replay(ACTIVE, ['import', 'locked'], ['scim', 'disabled']);
    expect(decideStatus(start, 'operator', 'active')).toEqual(ACTIVE);
    expect(decideStatus(start, 'operator', 'disabled')).toEqual({
      status: 'disabled',
      decisions: { scim: 'disabled', operator: 'disabled' },
    });
    expect(decideStatus(start, 'operator', 'locked').status).toBe('locked');
  });

  it('creation: the requested status, as that writer’s decision', () => {
    expect(decideStatus(null, 'jit', 'active')).toEqual(ACTIVE);
    expect(decideStatus(null, 'scim', 'disabled')).toEqual({
      status: 'disabled',
      decisions: { scim: 'disabled' },
    });
    expect(decideStatus(null, 'operator', 'locked')).toEqual({
      status: 'locked',
      decisions: { operator: 'locked' },
    });
  });

  it("a status its decisions do not explain (a DBA's UPDATE, older rows) counts as the operator's", () => {
    // Locked by hand in SQL: SCIM cannot undo it.
    const byHand: StatusState = { status: 'locked', decisions: {} };
    expect(replay(byHand, ['scim', 'disabled'], ['scim', 'active']).status).toBe('locked');
    // Enabled by hand over a SCIM deactivation: the override holds.
    expect(
      decideStatus({ status: 'active', decisions: { scim: 'disabled' } }, 'import', 'active'),
    ).toEqual(ACTIVE);
  });

  it('reads stored decisions by own, known keys only', () => {
    const polluted = Object.create({ operator: 'locked' }) as Record<string, unknown>;
    polluted.scim = 'disabled';
    polluted.admin = 'locked';
    polluted.import = 'banned';
    expect(readDecisions(polluted)).toEqual({ scim: 'disabled' });
    expect(readDecisions(null)).toEqual({});
    expect(readDecisions(['locked'])).toEqual({});
    expect(statusOf({ scim: 'disabled', signals: 'locked' })).toBe('locked');
  });

  it('no stored decision: one shared, frozen empty set for every record', () => {
    const none = readDecisions({});
    expect(readDecisions({ import: 'banned' })).toBe(none);
    expect(readDecisions('x')).toBe(none);
    expect(Object.isFrozen(none)).toBe(true);
    const some = readDecisions({ operator: 'locked' });
    expect(some).not.toBe(none);
    expect(some).toEqual({ operator: 'locked' });
  });
});
