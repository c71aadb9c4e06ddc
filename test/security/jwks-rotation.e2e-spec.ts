import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { FixedClock } from '@resolver/observability';
import { createTestDatabase, sqlPool } from '../support/database';
import { eventually } from '../support/eventually';
import { expectRefusedOnBothTransports, provisionedRows } from '../support/hostile';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, makeKey, type SigningKey, TokenFactory } from '../support/token-factory';

/**
 * Keys and the IdP, with the clock injected so cache ages and cooldowns move without sleeping.
 * Each issuer has its own JWKS path on the fixture IdP, so request counts are per issuer.
 */

const AUD = 'api://jwks-test';
const START = Date.UTC(2026, 10, 23, 12, 0, 0);
const JWKS = {
  timeoutMs: 1_000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  maxStaleMs: 3_600_000,
};
const ISS = {
  flood: 'https://flood.idp.test',
  rotate: 'https://rotate.idp.test',
  outage: 'https://outage.idp.test',
  never: 'https://never.idp.test',
  pending: 'https://pending.idp.test',
};

describe('JWKS caching, cooldown, rotation and outages', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let db: Pool;
  const clock = new FixedClock(new Date(START));
  const url: Record<keyof typeof ISS, string> = {
    flood: '',
    rotate: '',
    outage: '',
    never: '',
    pending: '',
  };

  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
  const token = (iss: string, key: SigningKey, kid: string = key.kid, sub = 'someone') =>
    keys.sign(claimsFor(iss, AUD, nowSeconds(), { sub }), { key, kid });
  const jwksRequests = (name: keyof typeof ISS) => idp.requests(new URL(url[name]).pathname);
  const keyState = async (iss: string) => {
    const ready = await app.http('/health/ready');
    return { http: ready.status, ...ready.body.details.keys.issuers[iss] };
  };
  const resolves = async (t: string) => {
    const http = await app.resolveHttp({ token: t });
    const grpc = await app.resolveGrpc({ token: t });
    return { http: http.status, grpc: grpc.ok };
  };

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('jwks');
    for (const name of Object.keys(ISS) as (keyof typeof ISS)[]) {
      url[name] = idp.publishJwks(name, keys.publicJwks());
    }
    idp.fail(new URL(url.never).pathname);
    const databaseUrl = await createTestDatabase('jwks');
    db = sqlPool(databaseUrl);
    app = await ResolverHarness.start({
      databaseUrl,
      clock,
      issuers: (Object.keys(ISS) as (keyof typeof ISS)[]).map((name) => ({
        issuer: ISS[name],
        jwksUri: url[name],
        audiences: [AUD],
        algorithms: ['RS256', 'ES256'],
        jwks: JWKS,
        jit: { enabled: true },
      })),
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await idp?.stop();
  });

  it('a flood of 1,000 tokens with random kids makes one JWKS request per cooldown window', async () => {
    expect(await resolves(await token(ISS.flood, keys.rsa))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('flood')).toBe(1);
    const rows = await provisionedRows(db);
    const WINDOWS = 10;
    const PER_WINDOW = 100;
    const answers = new Map<string, number>();
    for (let w = 0; w < WINDOWS; w++) {
      clock.advance(JWKS.cooldownMs);
      const tokens = await Promise.all(
        Array.from({ length: PER_WINDOW }, () => token(ISS.flood, keys.rsa, randomUUID())),
      );
      const results = await Promise.all(
        tokens.map(async (t, i) => {
          if (i % 2 === 0) return String((await app.resolveHttp({ token: t })).body.reason);
          const grpc = await app.resolveGrpc({ token: t });
          return grpc.ok ? 'RESOLVED' : String(grpc.reason);
        }),
      );
      for (const r of results) answers.set(r, (answers.get(r) ?? 0) + 1);
    }
    expect(Object.fromEntries(answers)).toEqual({
      SIGNING_KEY_NOT_FOUND: WINDOWS * PER_WINDOW,
    });
    // 1 initial fetch + exactly 1 refetch per cooldown window, for 1,000 unknown kids.
    const floodRequests = jwksRequests('flood') - 1;
    expect(floodRequests).toBe(WINDOWS);
    expect(await provisionedRows(db)).toEqual(rows);
    // The genuine key still works, from the cache.
    expect(await resolves(await token(ISS.flood, keys.rsa))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('flood') - 1).toBe(WINDOWS);
  });

  it('rotation: a newly published key is accepted after one refetch, a removed key is refused once the cache expires', async () => {
    const next = await makeKey('RS256', 'jwks-rsa-next');
    expect(await resolves(await token(ISS.rotate, keys.rsa))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('rotate')).toBe(1);

    idp.publishJwks('rotate', [keys.rsa.publicJwk, next.publicJwk]);
    // Within the cooldown of the last fetch the new kid is not known yet...
    await expectRefusedOnBothTransports(
      app,
      await token(ISS.rotate, next),
      'SIGNING_KEY_NOT_FOUND',
    );
    expect(jwksRequests('rotate')).toBe(1);
    // ...after it, exactly one refetch picks it up.
    clock.advance(JWKS.cooldownMs);
    expect(await resolves(await token(ISS.rotate, next))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('rotate')).toBe(2);

    idp.publishJwks('rotate', [next.publicJwk]);
    // The old key stays trusted while the cache is fresh (no request)...
    expect(await resolves(await token(ISS.rotate, keys.rsa))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('rotate')).toBe(2);
    // ...and is refused once it expires and the refetch no longer lists it. The first request
    // after expiry is answered from the stale keys while the refresh runs behind it
    // (stale-while-revalidate): a request never waits on a refetch while a cached key fits.
    clock.advance(JWKS.cacheMaxAgeMs);
    // (Another subject: this token must not sit in the verified-token cache for the check below.)
    const servedStale = await token(ISS.rotate, keys.rsa, keys.rsa.kid, 'served-stale');
    expect((await app.resolveHttp({ token: servedStale })).status).toBe(200);
    await eventually(
      'the background refresh drops the old key',
      async () => ((await keyState(ISS.rotate)) as { keys: number }).keys === 1,
    );
    await expectRefusedOnBothTransports(
      app,
      await token(ISS.rotate, keys.rsa),
      'SIGNING_KEY_NOT_FOUND',
    );
    expect(jwksRequests('rotate')).toBe(3);
    expect(await resolves(await token(ISS.rotate, next))).toEqual({ http: 200, grpc: true });
    expect(jwksRequests('rotate')).toBe(3);
  });

  it('outage: last good keys keep verifying (readiness says degraded) up to maxStaleMs, then KEYS_UNAVAILABLE', async () => {
    const path = new URL(url.outage).pathname;
    expect(await resolves(await token(ISS.outage, keys.ec))).toEqual({ http: 200, grpc: true });
    const fetchedAt = clock.now().getTime();
    expect(await keyState(ISS.outage)).toMatchObject({ http: 200, status: 'ok', keys: 2 });

    idp.fail(path);
    clock.advance(JWKS.cacheMaxAgeMs);
    expect(await resolves(await token(ISS.outage, keys.ec))).toEqual({ http: 200, grpc: true });
    await eventually(
      'the background refresh fails',
      async () => ((await keyState(ISS.outage)) as { status: string }).status === 'degraded',
    );
    expect(await keyState(ISS.outage)).toMatchObject({
      http: 200,
      status: 'degraded',
      lastError: expect.stringContaining('503'),
    });
    // During the outage the IdP is asked at most once per cooldown, not once per token.
    const during = idp.requests(path);
    for (let i = 0; i < 20; i++) {
      expect((await app.resolveHttp({ token: await token(ISS.outage, keys.ec) })).status).toBe(200);
    }
    expect(idp.requests(path)).toBe(during);

    // Just before the stale bound: still served. At it: refused as unavailable, never as a
    // signature problem, and readiness stays 200 while naming the issuer unavailable.
    clock.set(new Date(fetchedAt + JWKS.maxStaleMs - 1_000));
    expect(await resolves(await token(ISS.outage, keys.ec))).toEqual({ http: 200, grpc: true });
    clock.set(new Date(fetchedAt + JWKS.maxStaleMs));
    await expectRefusedOnBothTransports(app, await token(ISS.outage, keys.ec), 'KEYS_UNAVAILABLE');
    expect(await keyState(ISS.outage)).toMatchObject({ http: 200, status: 'unavailable' });

    // With no usable key the IdP is retried about once a second, whatever the 30 s cooldown
    // says, behind the requests (which keep answering at once): recovery within a second.
    idp.recover(path);
    await eventually('the retry in the background picks up the keys', async () => {
      // The retry's first request comes within about a second (clock time).
      clock.advance(250);
      return (await app.resolveHttp({ token: await token(ISS.outage, keys.ec) })).status === 200;
    });
    const recovered = idp.requests(path);
    expect(await resolves(await token(ISS.outage, keys.ec))).toEqual({ http: 200, grpc: true });
    expect(await keyState(ISS.outage)).toMatchObject({ status: 'ok' });
    expect(idp.requests(path)).toBe(recovered);
  });

  it('with no keys ever fetched the answer is KEYS_UNAVAILABLE (503), never SIGNATURE_INVALID', async () => {
    expect(await keyState(ISS.pending)).toMatchObject({ http: 200, status: 'pending', keys: 0 });
    const genuine = await token(ISS.never, keys.rsa);
    const forged = `${genuine.split('.').slice(0, 2).join('.')}.${Buffer.alloc(256, 7).toString('base64url')}`;
    const rows = await provisionedRows(db);
    for (const t of [genuine, forged, await token(ISS.never, keys.rsa, 'unknown-kid')]) {
      await expectRefusedOnBothTransports(app, t, 'KEYS_UNAVAILABLE');
      const http = await app.resolveHttp({ token: t });
      expect(http.headers.get('retry-after')).toBe('1');
    }
    expect(await provisionedRows(db)).toEqual(rows);
    expect(await keyState(ISS.never)).toMatchObject({
      http: 200,
      status: 'unavailable',
      keys: 0,
    });
  });
});
