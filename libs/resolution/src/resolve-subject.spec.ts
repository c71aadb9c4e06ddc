import type { ResolverConfig } from '@resolver/config';
import type { FixedClock, ResolverMetrics } from '@resolver/observability';
import { isResolutionError, REASON_CODES, type ReasonCode } from '@resolver/reasons';
import type { TokenVerifier } from '@resolver/tokens';
import { SubjectCaches } from './cache/subject-caches';
import * as tokenSteps from './pipeline/token-steps';
import { ResolveSubject } from './resolve-subject';
import type {
  InMemoryRevocationRepository,
  InMemoryUserRepository,
} from '@resolver/identity/testing';
import { dpopClient } from './testing/dpop-client';
import { ES, HS, NOW, OPAQUE, T, unitIssuers } from './testing/unit-fixture';
import type { PresentedRequest } from './resolution';

/**
 * ResolveSubject with in-memory stores, a fixed clock and static keys: every reason code it can
 * return is reached here, without a database or a network (the one JWKS issuer points at a
 * closed loopback port, for KEYS_UNAVAILABLE). e2e suites cover the wiring and the transports.
 * One file past 400 lines, on purpose: its last test checks that the tests before it reached
 * every reason code (`reached`), which only holds while they share this module.
 */

let fixture: Awaited<ReturnType<typeof unitIssuers>>;
let config: ResolverConfig;
let clock: FixedClock;
let users: InMemoryUserRepository;
let revocations: InMemoryRevocationRepository;
let resolver: ResolveSubject;
let caches: SubjectCaches;
let metrics: ResolverMetrics;
let verifier: TokenVerifier;
const reached = new Set<ReasonCode>();
const hs = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  fixture.hs(claims, header);
const es = (claims: Record<string, unknown>, kid?: string) => fixture.es(claims, kid);

async function outcome(
  token: unknown,
  authorization?: string,
  presented?: PresentedRequest,
): Promise<string> {
  try {
    const r = await resolver.resolve({
      token,
      authorization,
      transport: 'http',
      presented: presented && (() => presented),
    });
    return `OK:${r.source}`;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    reached.add(error.reason);
    return error.reason;
  }
}

beforeAll(async () => {
  fixture = await unitIssuers();
  config = fixture.config;
});

afterAll(() => fixture.cleanup());

beforeEach(async () => {
  ({ clock, users, revocations, caches, resolver, metrics, verifier } = await fixture.world());
});

describe('ResolveSubject (unit: in-memory stores, fixed clock, static keys)', () => {
  it('request: TOKEN_MISSING, TOKEN_MALFORMED, TOKEN_TOO_LARGE', async () => {
    expect(await outcome(undefined)).toBe('TOKEN_MISSING');
    expect(await outcome(undefined, 'Basic abc')).toBe('TOKEN_MISSING');
    expect(await outcome('not.a.jwt!')).toBe('TOKEN_MALFORMED');
    expect(await outcome(42)).toBe('TOKEN_MALFORMED');
    expect(await outcome('a'.repeat(config.limits.maxTokenBytes + 1))).toBe('TOKEN_TOO_LARGE');
  });

  it('token: issuer, algorithm, key, signature, times, audience, claims', async () => {
    expect(await outcome(hs({ iss: 'https://nobody.test' }))).toBe('ISSUER_UNKNOWN');
    expect(await outcome(hs({}, { alg: 'HS512' }))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(await outcome(await es({}, 'no-such-kid'))).toBe('SIGNING_KEY_NOT_FOUND');
    const good = hs({});
    expect(await outcome(`${good.slice(0, -4)}AAAA`)).toBe('SIGNATURE_INVALID');
    expect(await outcome(hs({ exp: T - 3600 }))).toBe('TOKEN_EXPIRED');
    expect(await outcome(hs({ nbf: T + 3600 }))).toBe('TOKEN_NOT_YET_VALID');
    expect(await outcome(hs({ aud: 'api://elsewhere' }))).toBe('AUDIENCE_MISMATCH');
    expect(await outcome(hs({ exp: 1e308 }))).toBe('CLAIM_INVALID');
    expect(await outcome(hs({ iat: T + 3600 }))).toBe('CLAIM_INVALID');
  });

  it('formats: a JWE and a PASETO token resolve through the same steps; DECRYPTION_FAILED', async () => {
    users.seed({ tenant: 'acme', link: { issuer: ES, tenant: 'acme', subject: 'erin' } });
    expect(await outcome(await fixture.jwe())).toBe('OK:STORE');
    // Verified afresh (a token of its own), its user now from the user cache.
    expect(await outcome(fixture.paseto())).toBe('OK:CACHE');
    expect(await outcome(await fixture.jwe(undefined, { kid: 'enc-0' }))).toBe('DECRYPTION_FAILED');
    expect(await outcome(fixture.paseto({ exp: new Date((T - 60) * 1000).toISOString() }))).toBe(
      'TOKEN_EXPIRED',
    );
    // The inner JWS goes through the ordinary JWS steps: its own kid must be a signing key.
    expect(await outcome(await fixture.jwe(await es({}, 'no-such-kid')))).toBe(
      'SIGNING_KEY_NOT_FOUND',
    );
    // A JWT of another issuer inside ES's JWE is not ES's token.
    expect(await outcome(await fixture.jwe(hs({})))).toBe('CLAIM_INVALID');
  });

  it('KEYS_UNAVAILABLE when the issuer JWKS cannot be fetched, never SIGNATURE_INVALID', async () => {
    expect(await outcome(fixture.down())).toBe('KEYS_UNAVAILABLE');
  });

  it('subject and tenant: SUBJECT_MISSING, SUBJECT_MALFORMED, TENANT_MISSING', async () => {
    expect(await outcome(hs({ sub: undefined }))).toBe('SUBJECT_MISSING');
    expect(await outcome(hs({ sub: 'alice\u3000' }))).toBe('SUBJECT_MALFORMED');
    expect(await outcome(await es({ tid: undefined }))).toBe('TENANT_MISSING');
  });

  it('revocation: TOKEN_REVOKED by jti and by sign-out-everywhere', async () => {
    users.seed({ email: 'alice@x.test', link: { issuer: HS, subject: 'alice' } });
    await revocations.revoke({ issuer: HS, jti: 'gone', expiresAt: new Date(NOW.getTime() + 1e6) });
    caches.markCoherent(await revocations.listActive(clock.now()));
    expect(await outcome(hs({ jti: 'gone' }))).toBe('TOKEN_REVOKED');
    users.seed({
      tokensValidAfter: new Date(NOW.getTime() - 1_000),
      link: { issuer: HS, subject: 'signed-out' },
    });
    expect(await outcome(hs({ sub: 'signed-out' }))).toBe('TOKEN_REVOKED');
  });

  it('users: found from the store then the cache; barred users with their own reasons', async () => {
    users.seed({ link: { issuer: ES, subject: 'erin' }, tenant: 'acme' });
    const token = await es({});
    expect(await outcome(token)).toBe('OK:STORE');
    expect(await outcome(token)).toBe('OK:CACHE');
    // Both answers are counted under the token's issuer, the warm one too.
    const counted = (await metrics.registry.metrics())
      .split('\n')
      .find((l) => l.startsWith('resolver_resolutions_total{') && l.includes(`issuer="${ES}"`));
    expect(counted?.endsWith(' 2')).toBe(true);
    users.seed({ status: 'disabled', link: { issuer: HS, subject: 'dis' } });
    users.seed({ status: 'locked', link: { issuer: HS, subject: 'loc' } });
    users.seed({ deletedAt: NOW, link: { issuer: HS, subject: 'del' } });
    expect(await outcome(hs({ sub: 'dis' }))).toBe('USER_DISABLED');
    expect(await outcome(hs({ sub: 'loc' }))).toBe('USER_LOCKED');
    expect(await outcome(hs({ sub: 'del' }))).toBe('USER_DELETED');
  });

  it('answerFromMemory: the warm answer with no promise, counted once; nothing else, counted never', async () => {
    const count = async () =>
      (await metrics.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('resolver_resolutions_total{') && l.includes(`issuer="${HS}"`))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const ask = (token?: unknown, authorization?: string) =>
      resolver.answerFromMemory({ token, authorization, transport: 'http' });
    users.seed({ link: { issuer: HS, subject: 'mem' } });
    users.seed({ status: 'disabled', link: { issuer: HS, subject: 'memoff' } });
    const token = hs({ sub: 'mem', jti: 'mem-1' });
    // Not seen yet, malformed, missing: no answer, nothing counted.
    expect(ask(token)).toBeUndefined();
    expect(ask(undefined)).toBeUndefined();
    expect(ask('not.a.jwt!')).toBeUndefined();
    expect(await count()).toBe(0);
    expect(await outcome(token)).toBe('OK:STORE');
    const warm = ask(undefined, `Bearer ${token}`);
    expect(warm).toMatchObject({ source: 'CACHE', token: { subject: 'mem', jti: 'mem-1' } });
    expect(ask(token)?.principal).toBe(warm?.principal);
    expect(await count()).toBe(3);
    // The DPoP scheme, a barred user, a revoked jti: the pipeline's to answer (and refuse).
    expect(ask(undefined, `DPoP ${token}`)).toBeUndefined();
    const off = hs({ sub: 'memoff' });
    expect(await outcome(off)).toBe('USER_DISABLED');
    expect(ask(off)).toBeUndefined();
    await revocations.revoke({
      issuer: HS,
      jti: 'mem-1',
      expiresAt: new Date(NOW.getTime() + 1e6),
    });
    caches.markCoherent(await revocations.listActive(clock.now()));
    expect(ask(token)).toBeUndefined();
    expect(await outcome(token)).toBe('TOKEN_REVOKED');
    expect(await count()).toBe(5);
  });

  it('answerFromMemory then resolve: one extraction and one counted lookup per credential', async () => {
    const cacheCount = async (cache: string, result: string) => {
      const prefix = `resolver_cache_requests_total{cache="${cache}",result="${result}"} `;
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(prefix));
      return line ? Number(line.slice(prefix.length)) : 0;
    };
    users.seed({ link: { issuer: HS, subject: 'once' } });
    users.seed({ link: { issuer: HS, subject: 'twice' } });
    const a = hs({ sub: 'once', jti: 'once-1' });
    const b = hs({ sub: 'twice', jti: 'twice-1' });
    const extracts = jest.spyOn(tokenSteps, 'extract');
    try {
      const misses = await cacheCount('token', 'miss');
      // Not answered from memory: resolve takes the same credential up, not extracted again.
      expect(resolver.answerFromMemory({ authorization: `Bearer ${a}`, transport: 'http' })).toBe(
        undefined,
      );
      const first = await resolver.resolve({ authorization: `Bearer ${a}`, transport: 'http' });
      expect(first.token.subject).toBe('once');
      expect(extracts).toHaveBeenCalledTimes(1);
      expect(await cacheCount('token', 'miss')).toBe(misses + 1);
      // Another credential than the one left unanswered is extracted for itself.
      expect(resolver.answerFromMemory({ token: b, transport: 'grpc' })).toBeUndefined();
      expect((await resolver.resolve({ token: a, transport: 'grpc' })).token.subject).toBe('once');
      expect((await resolver.resolve({ token: b, transport: 'grpc' })).token.subject).toBe('twice');
      expect(extracts).toHaveBeenCalledTimes(4);
      expect(await cacheCount('token', 'miss')).toBe(misses + 2);
      // Answered from memory: one hit each, counted by the answer alone.
      const hits = [await cacheCount('token', 'hit'), await cacheCount('user', 'hit')];
      expect(resolver.answerFromMemory({ token: b, transport: 'http' })?.source).toBe('CACHE');
      expect([await cacheCount('token', 'hit'), await cacheCount('user', 'hit')]).toEqual([
        (hits[0] as number) + 1,
        (hits[1] as number) + 1,
      ]);
    } finally {
      extracts.mockRestore();
    }
  });

  it('answerFromMemory: one answer object per cached token and principal, a new one for a changed user', async () => {
    users.seed({ link: { issuer: HS, subject: 'same' } });
    const token = hs({ sub: 'same', jti: 'same-1' });
    expect(await outcome(token)).toBe('OK:STORE');
    const ask = () => resolver.answerFromMemory({ token, transport: 'grpc' });
    const first = ask();
    expect(first?.source).toBe('CACHE');
    // The transports keep what they write for an answer by its identity.
    expect(ask()).toBe(first);
    const now = clock.nowMs();
    const [key, user] =
      [...caches.users.live(now)].find(([, u]) => u.id === first?.principal.id) ?? [];
    if (!key || !user) throw new Error('the user is not cached');
    caches.putUser(key, { ...user, email: 'same.new@example.test' });
    const changed = ask();
    expect(changed).not.toBe(first);
    expect(changed?.principal.email).toBe('same.new@example.test');
    expect(ask()).toBe(changed);
  });

  it('not found: USER_NOT_FOUND with JIT off, and for a person linked where a service is asked', async () => {
    expect(await outcome(await es({ sub: 'stranger' }))).toBe('USER_NOT_FOUND');
    users.seed({ link: { issuer: HS, subject: 'robot' } });
    // A client-credentials token must find a principal of kind service (service JIT is off).
    expect(await outcome(hs({ sub: 'robot', gty: 'client', client_id: 'robot' }))).toBe(
      'USER_NOT_FOUND',
    );
  });

  it('JIT: provisions once, then refuses what it must (PROVISIONING_REJECTED)', async () => {
    expect(await outcome(hs({ sub: 'newbie', email: 'newbie@x.test' }))).toBe('OK:PROVISIONED');
    expect(users.writes).toBe(1);
    expect(await outcome(hs({ sub: 'no-email' }))).toBe('PROVISIONING_REJECTED');
    // A user of the issuer's own namespace holds the email: JIT would make a second one.
    users.seed({ email: 'taken@x.test', namespace: HS });
    expect(await outcome(hs({ sub: 'taker', email: 'taken@x.test' }))).toBe(
      'PROVISIONING_REJECTED',
    );
    expect(users.writes).toBe(1);
    // ...and so does an operator's user (its email is its own in every namespace)...
    users.seed({ email: 'operator@x.test', namespace: '' });
    expect(await outcome(hs({ sub: 't3', email: 'operator@x.test' }))).toBe(
      'PROVISIONING_REJECTED',
    );
    // ...but another issuer's user lives in another namespace: it never blocks this one's JIT.
    users.seed({ email: 'elsewhere@x.test', namespace: ES });
    expect(await outcome(hs({ sub: 't2', email: 'elsewhere@x.test' }))).toBe('OK:PROVISIONED');
    expect(users.writes).toBe(2);
  });

  it('the store down is USER_STORE_UNAVAILABLE, never USER_NOT_FOUND', async () => {
    users.down = true;
    expect(await outcome(hs({ sub: 'anyone', email: 'a@x.test' }))).toBe('USER_STORE_UNAVAILABLE');
  });

  it('an overloaded store is USER_STORE_OVERLOADED (503), never USER_NOT_FOUND', async () => {
    users.overloaded = true;
    expect(await outcome(hs({ sub: 'anyone', email: 'a@x.test' }))).toBe('USER_STORE_OVERLOADED');
    expect(await outcome(await es({ sub: 'someone' }))).toBe('USER_STORE_OVERLOADED');
  });

  it('one token brought by concurrent requests is verified once and provisioned once', async () => {
    let open!: () => void;
    users.provisionGate = new Promise<void>((r) => (open = r));
    const decode = jest.spyOn(verifier, 'decode');
    const verify = jest.spyOn(verifier, 'verify');
    const token = hs({ sub: 'twin', email: 'twin@x.test' });
    const answers = Promise.all(Array.from({ length: 20 }, () => outcome(token)));
    await new Promise((r) => setTimeout(r, 100));
    open();
    // The first resolves it; the others, once it has, find token and user cached.
    expect((await answers).sort()).toEqual([
      ...Array<string>(19).fill('OK:CACHE'),
      'OK:PROVISIONED',
    ]);
    expect(decode.mock.calls.length + verify.mock.calls.length).toBe(1);
    expect(users.provisionCalls).toBe(1);
    // A refused token is not answered from another request's work: each decides for itself.
    const forged = `${hs({ sub: 'twin', email: 'twin@x.test' }).slice(0, -4)}AAAA`;
    expect(await Promise.all([outcome(forged), outcome(forged)])).toEqual([
      'SIGNATURE_INVALID',
      'SIGNATURE_INVALID',
    ]);
    expect(decode.mock.calls.length).toBe(3);
  });

  it('JIT: concurrent first requests of one subject share one provisioning call, counted once', async () => {
    let open!: () => void;
    users.provisionGate = new Promise<void>((r) => (open = r));
    // Twenty tokens of one subject (each its own jti), asking for the same user.
    const answers = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        outcome(hs({ sub: 'crowd', email: 'crowd@x.test', jti: `crowd-${i}` })),
      ),
    );
    // Every request reaches the one call (held open) before the store answers it.
    await new Promise((r) => setTimeout(r, 100));
    open();
    expect(new Set(await answers)).toEqual(new Set(['OK:PROVISIONED']));
    expect(users.provisionCalls).toBe(1);
    expect(users.writes).toBe(1);
    const created = (await metrics.registry.metrics())
      .split('\n')
      .find((l) =>
        l.startsWith(`resolver_jit_provisioning_total{issuer="${HS}",result="created"}`),
      );
    expect(created?.endsWith(' 1')).toBe(true);
  });

  it('JIT: tokens of one subject with different claims are not answered from each other', async () => {
    let open!: () => void;
    users.provisionGate = new Promise<void>((r) => (open = r));
    // A user of the issuer's namespace holds one of the two emails: only that token is refused.
    users.seed({ email: 'held@x.test', namespace: HS });
    const refused = outcome(hs({ sub: 'twice', email: 'held@x.test' }));
    const accepted = outcome(hs({ sub: 'twice', email: 'free@x.test' }));
    await new Promise((r) => setTimeout(r, 100));
    open();
    expect(users.provisionCalls).toBe(2);
    expect([await refused, await accepted]).toEqual(['PROVISIONING_REJECTED', 'OK:PROVISIONED']);
  });

  it('sender binding: PROOF_MISSING, PROOF_INVALID, PROOF_REPLAYED, BINDING_MISMATCH, on every request', async () => {
    // The dpop library stamps iat from the wall clock: this test runs on real time.
    const now = new Date();
    clock.set(now);
    const t = Math.floor(now.getTime() / 1000);
    const client = await dpopClient();
    users.seed({ link: { issuer: HS, subject: 'alice' } });
    const token = hs({ iat: t - 10, exp: t + 600, cnf: { jkt: client.jkt } });
    const uri = 'https://api.unit.test/orders?page=2';
    const request = async (method = 'GET', at = uri) => ({
      method,
      uri: 'https://API.unit.test:443/orders',
      dpop: await client.proof(method, at, token),
    });
    const first = await request();
    expect(await outcome(undefined, `DPoP ${token}`, first)).toBe('OK:STORE');
    // Cached token and user: the binding is still checked, with this request's proof.
    expect(await outcome(undefined, `DPoP ${token}`, await request())).toBe('OK:CACHE');
    expect(await outcome(undefined, `DPoP ${token}`, first)).toBe('PROOF_REPLAYED');
    expect(await outcome(undefined, `DPoP ${token}`, { method: 'GET', uri })).toBe('PROOF_MISSING');
    expect(await outcome(undefined, `DPoP ${token}`)).toBe('PROOF_MISSING');
    // Never downgraded to bearer, cached or not.
    expect(await outcome(undefined, `Bearer ${token}`, await request())).toBe('BINDING_MISMATCH');
    expect(await outcome(token, undefined)).toBe('PROOF_MISSING');
    const post = await request('POST');
    expect(await outcome(undefined, `DPoP ${token}`, { ...post, method: 'GET' })).toBe(
      'PROOF_INVALID',
    );
    const elsewhere = await request('GET', 'https://api.unit.test/admin');
    expect(await outcome(undefined, `DPoP ${token}`, elsewhere)).toBe('PROOF_INVALID');
    const other = await dpopClient();
    const foreign = { ...first, dpop: await other.proof('GET', uri, token) };
    expect(await outcome(undefined, `DPoP ${token}`, foreign)).toBe('BINDING_MISMATCH');
    // A token without cnf is a bearer token: the DPoP scheme is refused for it.
    const bearer = hs({ iat: t - 10, exp: t + 600 });
    expect(await outcome(undefined, `Bearer ${bearer}`)).toBe('OK:CACHE');
    expect(await outcome(undefined, `DPoP ${bearer}`, await request())).toBe('BINDING_MISMATCH');
    // The replay store down: refused as unavailable, never accepted unchecked.
    users.db.down = true;
    expect(await outcome(undefined, `DPoP ${token}`, await request())).toBe(
      'USER_STORE_UNAVAILABLE',
    );
  });

  it('opaque tokens: introspected at their issuer, then the same pipeline; inactive and outage reasons', async () => {
    users.seed({ email: 'olive@x.test', link: { issuer: OPAQUE, subject: 'olive' } });
    const before = fixture.introspection.counts.calls;
    const first = await resolver.resolve({ token: 'op_olive', transport: 'http' });
    expect([first.source, first.token.jti, first.token.scopes]).toEqual([
      'STORE',
      'op-jti-1',
      ['read'],
    ]);
    // The verified-token cache answers the next one: no second call.
    expect(await outcome('op_olive')).toBe('OK:CACHE');
    expect(fixture.introspection.counts.calls - before).toBe(1);
    // The deny-list applies to an opaque token's jti as to a JWT's.
    await revocations.revoke({
      issuer: OPAQUE,
      jti: 'op-jti-1',
      expiresAt: new Date(NOW.getTime() + 600_000),
    });
    caches.markCoherent(await revocations.listActive(clock.now()));
    expect(await outcome('op_olive')).toBe('TOKEN_REVOKED');
    expect(await outcome('op_never-issued')).toBe('TOKEN_INACTIVE');
    expect(await outcome('op_broken')).toBe('INTROSPECTION_UNAVAILABLE');
    // No prefix of an introspecting issuer: refused, nothing sent.
    const calls = fixture.introspection.counts.calls;
    expect(await outcome('zz_opaque')).toBe('TOKEN_MALFORMED');
    expect(fixture.introspection.counts.calls).toBe(calls);
  });

  it('reaches every reason code', () => {
    expect([...reached].sort()).toEqual([...REASON_CODES].sort());
  });
});
