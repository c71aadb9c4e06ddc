import fc from 'fast-check';
import type { SsfAction } from '@resolver/config';
import type { LookupKey, UserRecord } from '@resolver/identity';
import { InMemoryIdentityStore } from '@resolver/identity/testing';
import { decideStatus, type UserStatus } from '@resolver/policy';
import { applyUserEvent } from './ssf-actions';

/**
 * Ordering (the issue's rule): any order of arrival of the same events ends in the same state as
 * applying them by `event_timestamp` — an older event never undoes a newer one — and no order
 * ever moves the user out of an operator's decision. The real action code, on the in-memory
 * store that holds the same rules as Postgres.
 */
interface Ev {
  readonly action: Extract<
    SsfAction,
    'disable' | 'enable' | 'delete' | 'sign-out' | 'revoke-session' | 'record'
  >;
  readonly at: number;
  readonly sid?: string;
}

const KEY: LookupKey = {
  issuer: 'https://idp',
  tenant: '',
  subject: 's',
  strategy: 'external',
  kind: 'user',
};
const ISSUER = {
  issuer: 'https://idp',
  subject: {} as never,
  jit: { enabled: false, requiredClaims: [], map: {}, defaultRoles: [] },
};
const T0 = Date.parse('2026-12-01T00:00:00Z');

const event: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({
    action: fc.constantFrom('disable' as const, 'enable' as const),
    at: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({ action: fc.constant('sign-out' as const), at: fc.integer({ min: 0, max: 20 }) }),
  fc.record({
    action: fc.constant('revoke-session' as const),
    at: fc.integer({ min: 0, max: 20 }),
    sid: fc.constantFrom('s1', 's2', '__proto__', 'constructor'),
  }),
  {
    weight: 1,
    arbitrary: fc.record({
      action: fc.constant('delete' as const),
      at: fc.integer({ min: 0, max: 20 }),
    }),
  },
  fc.record({ action: fc.constant('record' as const), at: fc.integer({ min: 0, max: 20 }) }),
);

async function run(events: readonly Ev[], initial: UserStatus): Promise<unknown> {
  const store = new InMemoryIdentityStore();
  const user = await store.run(({ users }) =>
    users.insert({
      tenant: '',
      kind: 'user',
      provenance: 'admin',
      status: decideStatus(null, 'operator', initial),
    }),
  );
  for (const [i, e] of events.entries()) {
    await store.run(async ({ users, identities }) => {
      const current = (await users.findById(user.id, { lock: true })) as UserRecord;
      await applyUserEvent(
        { users, identities, receivedSets: { claim: () => Promise.resolve(true) } },
        current,
        {
          action: e.action,
          key: KEY,
          sessionId: e.sid,
          event: Object.create(null) as Record<string, unknown>,
          issuer: ISSUER,
          mark: { at: T0 + e.at * 1000, transmitter: 'tx', event: e.action, jti: `j${i}` },
        },
      );
    });
  }
  const [final] = store.allUsers() as [UserRecord];
  // What resolution sees; which event's jti a tie kept is not part of it.
  return {
    status: final.status,
    decisions: final.statusDecisions,
    deleted: final.deletedAt !== null,
    tokensValidAfter: final.tokensValidAfter?.getTime() ?? null,
    sessions: Object.fromEntries(
      Object.entries(final.signals?.sessions ?? {}).map(([sid, m]) => [sid, m.at]),
    ),
  };
}

describe('shared signals: ordering', () => {
  it('any permutation of the same events ends in the state of applying them by event time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(event, { minLength: 1, maxLength: 8 })
          .chain((events) =>
            fc.tuple(
              fc.constant(events),
              fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            ),
          ),
        fc.constantFrom<UserStatus>('active', 'disabled', 'locked'),
        async ([events, shuffled], initial) => {
          const inOrder = [...events].sort((a, b) => a.at - b.at);
          expect(await run(shuffled, initial)).toEqual(await run(inOrder, initial));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the newest status event decides; an operator lock or disable is never lifted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<UserStatus>('active', 'disabled', 'locked'),
        async (events, initial) => {
          const final = (await run(events, initial)) as { status: UserStatus };
          if (initial !== 'active')
            expect(final.status).toBe(initial === 'locked' ? 'locked' : 'disabled');
          const statusEvents = events.filter(
            (e) => e.action === 'disable' || e.action === 'enable',
          );
          if (initial === 'active' && statusEvents.length > 0) {
            const newest = Math.max(...statusEvents.map((e) => e.at));
            const atNewest = statusEvents.filter((e) => e.at === newest);
            // At the same instant, disable wins.
            const expected = atNewest.some((e) => e.action === 'disable') ? 'disabled' : 'active';
            expect(final.status).toBe(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
