import { EMPTY_SIGNALS, readSignals, revokedSessionOf } from './signal-state';

const mark = {
  at: 1_700_000_000,
  transmitter: 'https://idp.test/',
  event: 'session-revoked',
  jti: 'j1',
};

describe('readSignals', () => {
  it('a user with no signal shares one frozen empty state (the column default is {})', () => {
    for (const raw of [{}, { marks: {}, sessions: {} }, null, 'x', { sessions: { s1: 'no mark' } }])
      expect(readSignals(raw)).toBe(EMPTY_SIGNALS);
    expect(Object.isFrozen(EMPTY_SIGNALS)).toBe(true);
    expect(Object.isFrozen(EMPTY_SIGNALS.sessions)).toBe(true);
    // A session id is read as an own property only, whatever its name.
    for (const sid of ['constructor', '__proto__', 'toString'])
      expect(Object.hasOwn(EMPTY_SIGNALS.sessions, sid)).toBe(false);
  });

  it('a user with a signal gets its own state, as stored', () => {
    const sessions = readSignals({ sessions: { s1: mark } });
    expect(sessions).not.toBe(EMPTY_SIGNALS);
    expect(Object.keys(sessions.sessions)).toEqual(['s1']);
    const signOut = readSignals({ signOut: mark });
    expect(signOut.signOut).toMatchObject({ at: mark.at });
    expect(readSignals({ marks: { status: mark } }).marks.status).toMatchObject({ at: mark.at });
    expect(revokedSessionOf).toBeDefined();
  });
});
