import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import {
  HungEndpoint,
  IntrospectingAuthorizationServer,
  ScriptedEndpoint,
} from '../support/introspection-server';
import { ResolverHarness } from '../support/resolver-harness';

const RESOURCE = 'https://api.introspection-outage.test';
const SCRIPTED = 'https://scripted.as.test';
const HUNG = 'https://hung.as.test';
const DOWN = 'https://down.as.test';
const SIGNED = 'https://signed.as.test';
const SLOW = 'https://slow.as.test';

/**
 * Introspection when the endpoint fails or lies: an authorisation server that goes down (its
 * cached answers serve only within their own exp; a new token is 503), an endpoint on a closed
 * port, one that never answers (bounded waits, one call for 50 requests of one token), and one
 * whose answers are hostile (prototype keys, `active: "true"`, a huge or non-JSON body, a
 * subject of the wrong type, another issuer, an expired token, a missing scope). A failing
 * endpoint is 503 INTROSPECTION_UNAVAILABLE, never 401; a hostile answer is never a "yes".
 */
describe('introspection outages and hostile answers', () => {
  let as: IntrospectingAuthorizationServer;
  let scripted: ScriptedEndpoint;
  let hung: HungEndpoint;
  let signingKey: KeyObject;
  let app: ResolverHarness;
  let db: Pool;

  beforeAll(async () => {
    as = await IntrospectingAuthorizationServer.start({
      prefix: 'asa_',
      resource: RESOURCE,
      shortResource: `${RESOURCE}/short`,
      callers: ['caller-1', 'caller-2'],
    });
    scripted = await ScriptedEndpoint.start();
    hung = await HungEndpoint.start();
    const dir = mkdtempSync(join(tmpdir(), 'introspection-outage-'));
    const keyFile = join(dir, 'key.jwk.json');
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signingKey = privateKey;
    writeFileSync(keyFile, JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: 'k' }));
    const staticIssuer = (issuer: string, introspection: Record<string, unknown>) => ({
      issuer,
      keys: [keyFile],
      audiences: [RESOURCE],
      algorithms: ['ES256'],
      introspection: {
        clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecretEnv: 'RS' },
        ...introspection,
      },
    });
    const databaseUrl = await createTestDatabase('introspection_outage');
    app = await ResolverHarness.start({
      databaseUrl,
      env: { RS: 'a-secret', RS_BASIC: as.rs.basic.secret },
      config: { server: { requestTimeoutMs: 3_000 } },
      issuers: [
        {
          issuer: as.issuer,
          discovery: true,
          audiences: [RESOURCE],
          algorithms: ['ES256'],
          serviceAccounts: { subEqualsClientId: true },
          introspection: {
            prefix: 'asa_',
            cacheCapSeconds: 1,
            timeoutMs: 500,
            clientAuth: {
              method: 'client_secret_basic',
              clientId: 'rs-basic',
              clientSecretEnv: 'RS_BASIC',
            },
          },
        },
        staticIssuer(SCRIPTED, {
          prefix: 'evil_',
          endpoint: scripted.url,
          cacheCapSeconds: 0,
          negativeCacheSeconds: 0,
          requiredScopes: ['orders:read'],
        }),
        staticIssuer(SIGNED, {
          prefix: 'signed_',
          endpoint: scripted.url,
          cacheCapSeconds: 0,
          negativeCacheSeconds: 0,
          signedResponses: true,
        }),
        staticIssuer(HUNG, { prefix: 'hang_', endpoint: hung.url, timeoutMs: 300 }),
        // Its own timeout is longer than the request's deadline (3 s): the deadline answers.
        staticIssuer(SLOW, { prefix: 'slow_', endpoint: hung.url, timeoutMs: 10_000 }),
        staticIssuer(DOWN, { prefix: 'down_', endpoint: 'http://127.0.0.1:1/introspect' }),
      ],
    });
    db = sqlPool(databaseUrl);
    await seedUser(db, as.issuer, { subject: 'caller-1', kind: 'service', email: null });
    await seedUser(db, as.issuer, { subject: 'caller-2', kind: 'service', email: null });
    await seedUser(db, SCRIPTED, { subject: 'mallory' });
    await seedUser(db, SIGNED, { subject: 'mallory', email: 'mallory-signed@example.com' });
  });

  afterAll(async () => {
    await Promise.all([app?.close(), db?.end(), as?.stop(), scripted?.stop(), hung?.stop()]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const good = (extra: Record<string, unknown> = {}) => ({
    active: true,
    sub: 'mallory',
    aud: RESOURCE,
    exp: now() + 600,
    scope: 'orders:read',
    ...extra,
  });
  let n = 0;
  /** The scripted endpoint answers `body`; a new token asks it (nothing is cached there). */
  async function answerFor(body: unknown) {
    scripted.json(body);
    const token = `evil_${++n}`;
    const http = await app.resolveHttp({ token });
    return [http.status, http.body.reason ?? 'OK'];
  }

  it('hostile answers: never a "yes", a broken answer is 503, a bad claim its own reason', async () => {
    expect(await answerFor(good())).toEqual([200, 'OK']);
    expect(await answerFor(good({ active: 'true' }))).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    expect(await answerFor({ sub: 'mallory' })).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    expect(await answerFor('<html>not json</html>')).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    expect(await answerFor(`{"active":true,"pad":"${'x'.repeat(100_000)}"}`)).toEqual([
      503,
      'INTROSPECTION_UNAVAILABLE',
    ]);
    expect(await answerFor('{"active":false,"active":true}')).toEqual([
      503,
      'INTROSPECTION_UNAVAILABLE',
    ]);
    // Prototype keys are plain data: the subject they carry is never read as the token's.
    const { sub: _sub, ...noSub } = good();
    expect(
      await answerFor(
        JSON.stringify(noSub).replace(
          /}$/,
          ',"__proto__":{"sub":"mallory"},"constructor":{"prototype":{"sub":"mallory"}}}',
        ),
      ),
    ).toEqual([401, 'SUBJECT_MISSING']);
    expect(await answerFor(good({ sub: 42 }))).toEqual([401, 'SUBJECT_MALFORMED']);
    expect(await answerFor(good({ sub: { id: 'mallory' } }))).toEqual([401, 'SUBJECT_MALFORMED']);
    expect(await answerFor(good({ iss: 'https://another.as.test' }))).toEqual([
      401,
      'ISSUER_UNKNOWN',
    ]);
    expect(await answerFor(good({ aud: 'https://another.api.test' }))).toEqual([
      401,
      'AUDIENCE_MISMATCH',
    ]);
    expect(await answerFor(good({ exp: now() - 3_600 }))).toEqual([401, 'TOKEN_EXPIRED']);
    expect(await answerFor(good({ exp: 'tomorrow' }))).toEqual([401, 'CLAIM_INVALID']);
    expect(await answerFor(good({ scope: 'orders:write' }))).toEqual([401, 'CLAIM_INVALID']);
    expect(await answerFor({ active: false })).toEqual([401, 'TOKEN_INACTIVE']);
    scripted.answer = { status: 401, contentType: 'application/json', body: '{}' };
    expect((await app.resolveHttp({ token: 'evil_auth' })).status).toBe(503);
    scripted.answer = { status: 502, contentType: 'text/plain', body: 'bad gateway' };
    expect((await app.resolveHttp({ token: 'evil_5xx' })).body.reason).toBe(
      'INTROSPECTION_UNAVAILABLE',
    );
    // The process is fine afterwards.
    expect(await answerFor(good())).toEqual([200, 'OK']);
  });

  it('signed answers (RFC 9701): only a JWT the issuer signed for this client is read', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const jwt = (
      claims: Record<string, unknown>,
      header: Record<string, unknown> = {},
      key = signingKey,
    ) => {
      const input = `${b64({ alg: 'ES256', kid: 'k', typ: 'token-introspection+jwt', ...header })}.${b64(claims)}`;
      const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      return `${input}.${signature.toString('base64url')}`;
    };
    const envelope = (extra: Record<string, unknown> = {}) => ({
      iss: SIGNED,
      aud: 'rs',
      iat: now(),
      token_introspection: good(),
      ...extra,
    });
    const answer = async (body: string, contentType = 'application/token-introspection+jwt') => {
      scripted.answer = { status: 200, contentType, body };
      const http = await app.resolveHttp({ token: `signed_${++n}` });
      return [http.status, http.body.reason ?? 'OK'];
    };
    const unavailable = [503, 'INTROSPECTION_UNAVAILABLE'];
    expect(await answer(jwt(envelope()))).toEqual([200, 'OK']);
    expect(await answer(jwt(envelope({ token_introspection: { active: false } })))).toEqual([
      401,
      'TOKEN_INACTIVE',
    ]);
    // A plain JSON answer, however good, is not read when signed answers are required.
    expect(await answer(JSON.stringify(good()), 'application/json')).toEqual(unavailable);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(await answer(jwt(envelope(), {}, other))).toEqual(unavailable);
    expect(await answer(jwt(envelope({ aud: 'someone-else' })))).toEqual(unavailable);
    expect(await answer(jwt(envelope({ iss: SCRIPTED })))).toEqual(unavailable);
    expect(await answer(jwt(envelope(), { typ: 'JWT' }))).toEqual(unavailable);
    expect(await answer(jwt(envelope(), { alg: 'HS256' }))).toEqual(unavailable);
    expect(await answer(jwt(envelope({ token_introspection: 'active' })))).toEqual(unavailable);
    expect(await answer('not.a.jwt')).toEqual(unavailable);
  });

  it('an endpoint on a closed port is 503 INTROSPECTION_UNAVAILABLE on every surface, never 401', async () => {
    const http = await app.resolveHttp({ token: 'down_token' });
    expect([http.status, http.body.reason]).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    const grpc = await app.resolveGrpc({ token: 'down_token' });
    expect(!grpc.ok && [grpc.code, grpc.reason]).toEqual([14, 'INTROSPECTION_UNAVAILABLE']);
    const forward = await app.http('/v1/authz', {
      headers: { authorization: 'Bearer down_token' },
    });
    expect(forward.status).toBe(503);
  });

  it('a hung endpoint: every wait bounded, one call for 50 concurrent requests of one token', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => app.resolveHttp({ token: 'hang_one-token' })),
    );
    const took = Date.now() - started;
    for (const a of answers)
      expect([a.status, a.body.reason]).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    // The first request's call, and at most one more shared by all that waited on its answer
    // (each of them then decides for itself: a failure is not cached).
    expect(hung.requests).toBeGreaterThanOrEqual(1);
    expect(hung.requests).toBeLessThanOrEqual(2);
    expect(took).toBeLessThan(3_000);
  });

  it('a request deadline that passes while the endpoint is asked is INTROSPECTION_UNAVAILABLE too', async () => {
    const started = Date.now();
    const answer = await app.resolveHttp({ token: 'slow_token' });
    expect([answer.status, answer.body.reason]).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('the AS goes down: a cached answer serves only within its exp, a new token is 503', async () => {
    const cached = await as.token('caller-1');
    const fresh = await as.token('caller-2');
    expect((await app.resolveHttp({ token: cached })).status).toBe(200);
    await as.stop();
    // Past the cache cap (1 s) the endpoint is asked again, fails, and the answer it gave
    // earlier stands in: the token's own exp is 10 minutes away.
    await new Promise((r) => setTimeout(r, 1_200));
    const stale = await app.resolveHttp({ token: cached });
    expect(stale.status).toBe(200);
    const refused = await app.resolveHttp({ token: fresh });
    expect([refused.status, refused.body.reason]).toEqual([503, 'INTROSPECTION_UNAVAILABLE']);
  });
});
