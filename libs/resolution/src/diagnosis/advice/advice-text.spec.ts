import {
  type NearMiss,
  NearMissRepository,
  type NearMissQuery,
  ScimProvenanceRepository,
  type UserRecord,
} from '@resolver/identity';
import { unitIssuers, HS, NOW, T } from '../../testing/unit-fixture';
import { DiagnoseSubject } from '../diagnose-subject';
import type { Diagnosis } from '../diagnosis';

/**
 * Every operator text the diagnosis writes (findings and fixes of every step), rendered for
 * tokens that lack each claim or carry it with the wrong JSON type, and for users and near
 * misses whose optional fields are empty: no text may show a value that is not there
 * (`undefined`, `null`, `NaN`, `[object Object]`, or `""` where a value was meant).
 */

const BAD_TEXT = /undefined|\bnull\b|\[object Object\]|NaN|""/;

/** Absent, and every JSON type a claim can wrongly have. */
const VALUES: readonly unknown[] = [
  undefined,
  {},
  { a: 1 },
  [],
  ['x'],
  [1, null],
  [''],
  42,
  0,
  -1,
  1.5,
  1e308,
  null,
  true,
  false,
  '',
  ' ',
];
const CLAIMS = [
  'iss',
  'aud',
  'sub',
  'exp',
  'nbf',
  'iat',
  'tid',
  'email',
  'jti',
  'gty',
  'client_id',
];
const HEADERS = ['kid', 'typ', 'alg'];

/** Near misses of every kind, with and without the identity that matched, on bare users. */
class EveryNearMiss extends NearMissRepository {
  constructor(private readonly user: () => UserRecord) {
    super();
  }
  find(query: NearMissQuery): Promise<NearMiss[]> {
    void query;
    const user = this.user();
    const deleted = { ...user, deletedAt: NOW };
    const identity = { issuer: 'https://other.test', tenant: '', subject: 'Alice' };
    return Promise.resolve([
      ...(['case', 'issuer', 'tenant'] as const).flatMap((kind) => [
        { kind, user, identity },
        { kind, user },
      ]),
      ...(['id', 'email', 'username'] as const).map((column) => ({
        kind: 'column' as const,
        user,
        column,
      })),
      { kind: 'deleted', user: deleted, column: 'email' },
      { kind: 'email', user, column: 'email' },
    ]);
  }
}

class NoScimHistory extends ScimProvenanceRepository {
  find(): Promise<null> {
    return Promise.resolve(null);
  }
}

let fixture: Awaited<ReturnType<typeof unitIssuers>>;
beforeAll(async () => (fixture = await unitIssuers()));
afterAll(() => fixture.cleanup());

/** The operator text of a step: its finding and fix, and each near miss's. */
function texts(step: Diagnosis['steps'][number]): string[] {
  const misses = (step.details.nearMisses ?? []) as { finding: string; fix: string }[];
  return [step.finding, step.fix ?? '', ...misses.flatMap((m) => [m.finding, m.fix])];
}

/** Each text with a value that is not there, as `step: text`. */
function badTexts(d: Diagnosis): string[] {
  return d.steps.flatMap((s) =>
    texts(s)
      .filter((text) => BAD_TEXT.test(text))
      .map((text) => `${s.step}: ${text}`),
  );
}

describe('diagnosis advice text never shows a value that is not there', () => {
  it('for tokens lacking each claim, or carrying it with the wrong JSON type, on every step', async () => {
    const w = await fixture.world();
    // Seeded users have every optional field empty (email, username, display name: null).
    const bareUser = w.users.seed({});
    const diagnoser = new DiagnoseSubject(
      w.config,
      w.verifier,
      w.users,
      w.revocations,
      new EveryNearMiss(() => bareUser),
      w.caches,
      w.clock,
      new NoScimHistory(),
      w.proofs,
    );
    w.users.seed({ link: { issuer: HS, subject: 'alice' } });
    w.users.seed({ status: 'disabled', link: { issuer: HS, subject: 'dis' } });
    w.users.seed({ deletedAt: NOW, link: { issuer: HS, subject: 'del' } });
    w.users.seed({ tokensValidAfter: NOW, link: { issuer: HS, subject: 'out' } });
    w.users.seed({ kind: 'service', link: { issuer: HS, subject: 'svc' } });
    await w.revocations.revoke({ issuer: HS, jti: 'gone', expiresAt: new Date(+NOW + 1e6) });
    w.caches.markCoherent(await w.revocations.listActive(NOW));

    const tokens: string[] = [fixture.down()];
    for (const base of [{}, { sub: 'dis' }, { sub: 'del' }, { sub: 'out', iat: T - 60 }]) {
      for (const claim of CLAIMS)
        for (const value of VALUES) tokens.push(fixture.hs({ ...base, [claim]: value }));
    }
    for (const claim of [...CLAIMS, 'sub'])
      for (const value of VALUES) tokens.push(await fixture.es({ [claim]: value }));
    for (const header of HEADERS)
      for (const value of VALUES) tokens.push(fixture.hs({}, { [header]: value }));
    tokens.push(fixture.hs({ jti: 'gone' }), fixture.hs({ sub: 'svc' }));
    tokens.push(fixture.hs({ sub: 'nobody', email: 'n@x.test' }), fixture.hs({ sub: 'nobody' }));

    const bad = new Set<string>();
    for (const token of tokens) {
      // Cold, then warm (the caches hold what the resolution left).
      for (const text of badTexts(await diagnoser.diagnose({ token }))) bad.add(text);
      await w.resolver.resolve({ token, transport: 'http' }).catch(() => undefined);
      for (const text of badTexts(await diagnoser.diagnose({ token }))) bad.add(text);
    }
    expect([...bad]).toEqual([]);
  });
});
