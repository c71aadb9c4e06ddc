import {
  type NearMiss,
  NearMissRepository,
  type NearMissQuery,
  ScimProvenanceRepository,
} from '@resolver/identity';
import fc from 'fast-check';
import { isResolutionError } from '@resolver/reasons';
import { unitIssuers, type UnitWorld, ES, HS, NOW, OPAQUE, T } from '../testing/unit-fixture';
import { DiagnoseSubject } from './diagnose-subject';
import type { Diagnosis } from './diagnosis';

/**
 * DiagnoseSubject with in-memory stores, a fixed clock and static keys: the verdict is what
 * ResolveSubject answers next, for every reason; the failing step is the one that decided; and
 * a diagnosis changes nothing (no writes, no cache entries, no metrics).
 */

class NoNearMisses extends NearMissRepository {
  find(query: NearMissQuery): Promise<NearMiss[]> {
    void query;
    return Promise.resolve([]);
  }
}
class NoScimHistory extends ScimProvenanceRepository {
  find(): Promise<null> {
    return Promise.resolve(null);
  }
}

let fixture: Awaited<ReturnType<typeof unitIssuers>>;
let stale: Awaited<ReturnType<typeof unitIssuers>>;
let w: UnitWorld;
let diagnoser: DiagnoseSubject;

function diagnoserFor(world: UnitWorld): DiagnoseSubject {
  return new DiagnoseSubject(
    world.config,
    world.verifier,
    world.users,
    world.revocations,
    new NoNearMisses(),
    world.caches,
    world.clock,
    new NoScimHistory(),
    world.proofs,
  );
}

async function resolved(world: UnitWorld, token: unknown): Promise<string> {
  try {
    const r = await world.resolver.resolve({ token, transport: 'http' });
    return `OK:${r.source}`;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return error.reason;
  }
}

function predicted(d: Diagnosis): string {
  return d.verdict.reason === 'OK' ? `OK:${d.verdict.source}` : d.verdict.reason;
}

const failing = (d: Diagnosis) => d.steps.filter((s) => s.status === 'fail').map((s) => s.step);
const step = (d: Diagnosis, name: string) => d.steps.find((s) => s.step === name);

beforeAll(async () => {
  fixture = await unitIssuers();
  stale = await unitIssuers({ serveStaleOnOutageSeconds: 60 });
});

afterAll(async () => {
  await fixture.cleanup();
  await stale.cleanup();
});

beforeEach(async () => {
  w = await fixture.world();
  diagnoser = diagnoserFor(w);
});

describe('DiagnoseSubject (unit: in-memory stores, fixed clock, static keys)', () => {
  it('predicts the answer ResolveSubject gives next, cold and warm, for every kind of token', async () => {
    w.users.seed({ link: { issuer: ES, subject: 'erin' }, tenant: 'acme' });
    w.users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
    w.users.seed({ status: 'disabled', link: { issuer: HS, subject: 'dis' } });
    w.users.seed({ status: 'locked', link: { issuer: HS, subject: 'loc' } });
    w.users.seed({ deletedAt: NOW, link: { issuer: HS, subject: 'del' } });
    w.users.seed({ tokensValidAfter: NOW, link: { issuer: HS, subject: 'out' } });
    w.users.seed({ email: 'taken@x.test' });
    await w.revocations.revoke({ issuer: HS, jti: 'gone', expiresAt: new Date(+NOW + 1e6) });
    w.caches.markCoherent(await w.revocations.listActive(NOW));
    const good = fixture.hs({});
    const tokens: unknown[] = [
      undefined,
      'not.a.jwt!',
      'a'.repeat(w.config.limits.maxTokenBytes + 1),
      fixture.hs({ iss: 'https://nobody.test' }),
      fixture.hs({}, { alg: 'HS512' }),
      await fixture.es({}, 'no-such-kid'),
      `${good.slice(0, -4)}AAAA`,
      `${good.slice(0, good.lastIndexOf('.'))}.`,
      fixture.hs({ exp: T - 3600 }),
      fixture.hs({ nbf: T + 3600 }),
      fixture.hs({ aud: 'api://elsewhere' }),
      fixture.hs({ aud: 'api://elsewhere', exp: T - 3600 }),
      fixture.hs({ exp: 1e308 }),
      fixture.hs({ iat: T + 3600 }),
      fixture.hs({ exp: 'tomorrow' }),
      fixture.down(),
      fixture.hs({ sub: undefined }),
      fixture.hs({ sub: 'alice\u3000' }),
      await fixture.es({ tid: undefined }),
      fixture.hs({ jti: 'gone' }),
      fixture.hs({ sub: 'out', iat: T - 60 }),
      await fixture.es({}),
      good,
      fixture.hs({ sub: 'dis' }),
      fixture.hs({ sub: 'loc' }),
      fixture.hs({ sub: 'del' }),
      await fixture.es({ sub: 'stranger' }),
      fixture.hs({ sub: 'robot', gty: 'client', client_id: 'robot' }),
      fixture.hs({ sub: 'newbie', email: 'newbie@x.test' }),
      fixture.hs({ sub: 'no-email' }),
      fixture.hs({ sub: 'taker', email: 'taken@x.test' }),
      // Other formats: JWE (good, unknown kid, another issuer inside) and PASETO.
      await fixture.jwe(),
      await fixture.jwe(undefined, { kid: 'enc-0' }),
      await fixture.jwe(fixture.hs({})),
      fixture.paseto(),
      fixture.paseto({}, '{"kid":"p-0"}'),
      fixture.paseto({ exp: new Date((T - 60) * 1000).toISOString() }),
      'v4.local.abc',
    ];
    const answers = new Set<string>();
    for (const token of tokens) {
      for (const round of ['cold', 'warm']) {
        const verdict = predicted(await diagnoser.diagnose({ token }));
        const answer = await resolved(w, token);
        expect({ token, round, verdict }).toEqual({ token, round, verdict: answer });
        answers.add(answer);
      }
    }
    expect(answers.size).toBeGreaterThanOrEqual(24);
    expect([...answers]).toEqual(
      expect.arrayContaining(['OK:STORE', 'OK:CACHE', 'OK:PROVISIONED', 'PROVISIONING_REJECTED']),
    );
  });

  it('reports the format and the decryption; never a decrypted claim when decryption failed', async () => {
    w.users.seed({ link: { issuer: ES, subject: 'erin' }, tenant: 'acme' });
    const good = await diagnoser.diagnose({ token: await fixture.jwe() });
    expect(predicted(good)).toBe('OK:STORE');
    expect(step(good, 'format')).toMatchObject({ status: 'pass', details: { format: 'jwe' } });
    expect(step(good, 'decrypt')).toMatchObject({
      status: 'pass',
      details: { kid: 'enc-1', issuer: ES, alg: 'RSA-OAEP-256', enc: 'A256GCM', nested: 'JWS' },
    });
    expect(step(good, 'decode')?.details.payload).toMatchObject({ sub: 'erin' });
    // Verified: no later step reads the claims as unverified (the PASETO steps are not its).
    expect(good.steps.filter((s) => s.unverified).map((s) => s.step)).toEqual([]);
    // Encrypted to a key the issuer does not hold under that kid: no claim anywhere.
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const bad = await diagnoser.diagnose({ token: await fixture.jwe(undefined, {}, other) });
    expect(bad.verdict.reason).toBe('DECRYPTION_FAILED');
    expect(failing(bad)).toEqual(['decrypt', 'verdict']);
    expect(JSON.stringify(bad)).not.toMatch(/erin|acme/);
    const paseto = await diagnoser.diagnose({ token: fixture.paseto() });
    expect(predicted(paseto)).toBe('OK:STORE');
    expect(step(paseto, 'format')?.details.format).toBe('paseto');
    expect(step(paseto, 'decrypt')?.status).toBe('skip');
    expect(step(paseto, 'key')).toMatchObject({ status: 'pass', details: { kid: 'p-1' } });
    expect(step(paseto, 'signature')?.status).toBe('pass');
    expect(paseto.steps.filter((s) => s.unverified).map((s) => s.step)).toEqual([]);
    const jws = await diagnoser.diagnose({ token: await fixture.es({}) });
    expect(jws.steps.filter((s) => s.unverified).map((s) => s.step)).toEqual([]);
    const short = await diagnoser.diagnose({ token: 'v4.public.c2hvcnQ' });
    expect(failing(short)).toEqual(['decode', 'verdict']);
    expect(step(short, 'decode')?.fix).toMatch(/PASETO v4\.public/);
    const local = await diagnoser.diagnose({ token: 'v4.local.abc' });
    expect(failing(local)).toEqual(['format', 'verdict']);
  });

  it('changes nothing: no user written, no cache entry, no resolution counted', async () => {
    const counted = async () =>
      (await w.metrics.registry.metrics())
        .split('\n')
        .filter((line) => line.startsWith('resolver_'))
        .join('\n');
    const before = await counted();
    const sizes = w.caches.sizes();
    const d = await diagnoser.diagnose({ token: fixture.hs({ sub: 'new', email: 'new@x.test' }) });
    expect(d.verdict).toMatchObject({ reason: 'OK', source: 'PROVISIONED' });
    expect(step(d, 'jit')?.status).toBe('pass');
    expect(w.users.writes).toBe(0);
    expect(w.users.db.tables.users.size).toBe(0);
    expect(w.caches.sizes()).toEqual(sizes);
    expect(await counted()).toBe(before);
  });

  it('names the step that decided, and keeps looking past it', async () => {
    const expired = await diagnoser.diagnose({ token: fixture.hs({ exp: T - 3600 }) });
    expect(failing(expired)).toContain('time');
    expect(step(expired, 'time')?.finding).toContain('exp 1 hour ago');
    expect(step(expired, 'signature')?.status).toBe('pass');

    const unknownKid = await diagnoser.diagnose({ token: await fixture.es({}, 'nope') });
    expect(unknownKid.verdict.reason).toBe('SIGNING_KEY_NOT_FOUND');
    expect(failing(unknownKid)[0]).toBe('key');
    expect(step(unknownKid, 'signature')?.status).toBe('skip');

    const empty = fixture.hs({});
    const noSignature = await diagnoser.diagnose({
      token: `${empty.slice(0, empty.lastIndexOf('.'))}.`,
    });
    expect(noSignature.verdict.reason).toBe('SIGNATURE_INVALID');
    expect(failing(noSignature)[0]).toBe('signature');

    w.users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
    // Two faults: the verdict is the first in pipeline order; the second is still reported,
    // on claims the verification did not accept.
    const two = await diagnoser.diagnose({
      token: fixture.hs({ aud: 'api://elsewhere', exp: T - 3600 }),
    });
    expect(two.verdict.reason).toBe('AUDIENCE_MISMATCH');
    expect(failing(two)).toEqual(['time', 'claims', 'verdict']);
    // No finding names the libraries the resolver is built on.
    expect(JSON.stringify(two.steps)).not.toMatch(/jose|typeorm|protobuf/i);
  });

  it("JIT: a live user of the issuer's namespace holding the email is the refusal provisioning would give", async () => {
    w.users.seed({ email: 'taken@x.test', namespace: HS });
    const d = await diagnoser.diagnose({
      token: fixture.hs({ sub: 'taker', email: 'taken@x.test' }),
    });
    expect(d.verdict.reason).toBe('PROVISIONING_REJECTED');
    expect(step(d, 'jit')?.status).toBe('fail');
    expect(step(d, 'jit')?.fix).toContain('cli identities link');
    expect(w.users.writes).toBe(0);
  });

  it('the store down: USER_STORE_UNAVAILABLE, the user step not asked, never "not found"', async () => {
    w.users.down = true;
    const token = fixture.hs({ sub: 'anyone', email: 'a@x.test' });
    const d = await diagnoser.diagnose({ token });
    expect(d.verdict.reason).toBe('USER_STORE_UNAVAILABLE');
    expect(step(d, 'store')?.status).toBe('fail');
    expect(step(d, 'user')?.status).toBe('skip');
    expect(await resolved(w, token)).toBe('USER_STORE_UNAVAILABLE');
  });

  it('outage mode: predicts the answer from the snapshot taken when the listener went away', async () => {
    const o = await stale.world();
    const outage = diagnoserFor(o);
    o.users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
    const token = stale.hs({});
    expect(await resolved(o, token)).toBe('OK:STORE');
    o.caches.reset(); // the listener is lost: caches are distrusted, a snapshot is kept
    o.users.down = true;
    const d = await outage.diagnose({ token });
    expect(d.verdict).toMatchObject({ reason: 'OK', source: 'CACHE' });
    expect(step(d, 'store')?.status).toBe('fail');
    expect(await resolved(o, token)).toBe('OK:CACHE');
  });

  it('any signed claims at all: never a crash, and the verdict is the answer (2,000 runs)', async () => {
    w.users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
    w.users.seed({ email: 'taken@x.test', username: 'taken' });
    w.users.seed({ status: 'disabled', link: { issuer: HS, subject: 'dis' } });
    const anything = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string(),
      fc.constantFrom(T, T - 3600, T + 3600, 1e308, -1e308, 0, 'alice', 'dis', ' alice', 'ALICE'),
    );
    const claims = fc.record(
      {
        iss: fc.oneof(fc.constant(HS), anything),
        aud: fc.oneof(fc.constant('api://unit'), anything),
        sub: anything,
        exp: anything,
        nbf: anything,
        iat: anything,
        tid: anything,
        email: fc.oneof(fc.constantFrom('new@x.test', 'taken@x.test'), anything),
        gty: fc.oneof(fc.constant('client'), anything),
        client_id: anything,
        jti: anything,
      },
      { requiredKeys: [] },
    );
    const header = fc.record(
      { kid: anything, typ: anything, alg: fc.constantFrom('HS256', 'HS256', 'none', 'RS256') },
      { requiredKeys: ['alg'] },
    );
    await fc.assert(
      fc.asyncProperty(claims, header, async (c, h) => {
        const token = fixture.hs(c, h);
        const verdict = predicted(await diagnoser.diagnose({ token }));
        expect({ c, h, verdict }).toEqual({ c, h, verdict: await resolved(w, token) });
      }),
      { numRuns: 2000 },
    );
  });

  it('opaque tokens: an introspection step (active, cached, reachable; never the token), the verdict resolve gives, no cache written', async () => {
    w.users.seed({ email: 'olive@x.test', link: { issuer: OPAQUE, subject: 'olive' } });
    const calls = fixture.introspection.counts.calls;
    const d = await diagnoser.diagnose({ token: 'op_olive' });
    expect(predicted(d)).toBe('OK:STORE');
    expect(step(d, 'introspection')).toMatchObject({
      status: 'pass',
      details: { issuer: OPAQUE, active: true, cached: false, endpointReachable: true },
    });
    expect(step(d, 'signature')?.status).toBe('skip');
    expect(step(d, 'decode')?.details.payload).toMatchObject({ sub: 'olive', scope: 'read' });
    expect(JSON.stringify(d)).not.toContain('op_olive');
    // The diagnosis wrote no cache: the next one asks the endpoint again.
    await diagnoser.diagnose({ token: 'op_olive' });
    expect(fixture.introspection.counts.calls).toBe(calls + 2);
    expect(await resolved(w, 'op_olive')).toBe('OK:STORE');

    for (const [token, reason] of [
      ['op_never-issued', 'TOKEN_INACTIVE'],
      ['op_broken', 'INTROSPECTION_UNAVAILABLE'],
      ['zz_nobody', 'TOKEN_MALFORMED'],
    ] as const) {
      const refused = await diagnoser.diagnose({ token });
      expect([predicted(refused), failing(refused)]).toEqual([
        await resolved(w, token),
        expect.arrayContaining(['introspection', 'verdict']),
      ]);
      expect(predicted(refused)).toBe(reason);
    }
    const broken = await diagnoser.diagnose({ token: 'op_broken' });
    expect(step(broken, 'introspection')?.fix).toContain('client_secret_basic as rs');
  });
});
