import { execFile } from 'node:child_process';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { REASON_TABLE, type ReasonCode } from '@resolver/reasons';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { ExtAuthzClient } from '../support/ext-authz-client';
import { provisionedRows, signWith } from '../support/hostile';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

/**
 * Two different subjects never become one user, and a signed token never breaks the pipeline.
 * Every token below is signed with the issuer's real key, so only the named defect stands
 * between it and a user; each is sent on all four transports (HTTP resolve, gRPC resolve,
 * forward-auth, ext_authz) and must get the same reason, with no row written. The issuers that
 * refuse have JIT on, so anything that slipped through would create a user and a link.
 */

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const AUD = 'api://canonical';
const ADMIN_TOKEN = 'admin-secret-for-canonical-tests-0123';
const ISS = {
  x: 'https://x.idp.test', // external lookup, JIT on, default normalisation, no pattern
  e: 'https://e.idp.test', // email lookup, JIT off
  u: 'https://u.idp.test', // username lookup, JIT off
  t: 'https://t.idp.test', // tenant claim required, JIT on
  w: 'https://w.idp.test', // trim: true (ASCII spaces only), JIT off
};

let idp: JwksServer;
let keys: TokenFactory;
let app: ResolverHarness;
let extAuthz: ExtAuthzClient;
let db: Pool;
const ids: Record<string, string> = {};
const now = () => Math.floor(Date.now() / 1000);
const token = (iss: string, overrides: Record<string, unknown>) =>
  keys.sign(claimsFor(iss, AUD, now(), overrides));

type Answer = { status: number; reason: string | undefined; id?: string };

/** The same token on the four transports, as comparable answers. */
async function allTransports(raw: string): Promise<Record<string, Answer>> {
  const http = await app.resolveHttp({ token: raw });
  const grpc = await app.resolveGrpc({ token: raw });
  const fwd = await app.http('/v1/authz', { headers: { authorization: `Bearer ${raw}` } });
  const check = await extAuthz.check({ authorization: `Bearer ${raw}` });
  const allowedId = (check.okResponse?.headers ?? []).find(
    (h: { header: { key: string } }) => h.header.key === 'x-user-id',
  )?.header.value;
  return {
    http: { status: http.status, reason: http.body?.reason, id: http.body?.principal?.id },
    grpc: grpc.ok
      ? { status: 0, reason: undefined, id: grpc.response.principal.id }
      : { status: grpc.code, reason: grpc.reason },
    forwardAuth: {
      status: fwd.status,
      reason: fwd.headers.get('x-auth-reason') ?? undefined,
      id: fwd.headers.get('x-user-id') ?? undefined,
    },
    extAuthz: {
      status: check.status.code,
      reason: check.status.code === 0 ? undefined : check.status.message,
      id: allowedId,
    },
  };
}

function refusedEverywhere(reason: ReasonCode): Record<string, Answer> {
  const { httpStatus, grpcStatus } = REASON_TABLE[reason];
  const http = { status: httpStatus, reason };
  return {
    http,
    grpc: { status: grpcStatus, reason },
    forwardAuth: http,
    extAuthz: { status: grpcStatus, reason },
  };
}

function resolvedEverywhere(id: string): Record<string, Answer> {
  return {
    http: { status: 200, reason: undefined, id },
    grpc: { status: 0, reason: undefined, id },
    forwardAuth: { status: 200, reason: undefined, id },
    extAuthz: { status: 0, reason: undefined, id },
  };
}

/** Refused with `reason` on every transport, and nothing written. */
async function expectRefused(raw: string, reason: ReasonCode): Promise<void> {
  const before = await provisionedRows(db);
  expect(await allTransports(raw)).toEqual(refusedEverywhere(reason));
  expect(await provisionedRows(db)).toEqual(before);
}

beforeAll(async () => {
  idp = await new JwksServer().start();
  keys = await TokenFactory.create('canon');
  const jwksUri = idp.publishJwks('canon', keys.publicJwks());
  const databaseUrl = await createTestDatabase('canonical');
  db = sqlPool(databaseUrl);
  const base = { jwksUri, audiences: [AUD], algorithms: ['RS256', 'ES256'] };
  app = await ResolverHarness.start({
    databaseUrl,
    env: { ADMIN_TOKEN },
    config: { authz: { exposeReasonHeader: true } },
    issuers: [
      {
        ...base,
        issuer: ISS.x,
        jit: { enabled: true, map: { email: 'email', preferred_username: 'username' } },
        serviceAccounts: { when: { claim: 'token_use', equals: 'machine' }, jit: true },
      },
      { ...base, issuer: ISS.e, subject: { claim: 'email', lookup: 'email' } },
      { ...base, issuer: ISS.u, subject: { claim: 'preferred_username', lookup: 'username' } },
      { ...base, issuer: ISS.t, tenant: { claim: 'tid' }, jit: { enabled: true } },
      { ...base, issuer: ISS.w, subject: { normalize: { trim: true } } },
    ],
  });
  extAuthz = new ExtAuthzClient(app.resolver.grpcAddress);
  ids.admin = await seedUser(db, ISS.x, { subject: 'admin', email: 'admin@example.com' });
  ids.kelvin = await seedUser(db, ISS.x, { subject: 'Kelvin', email: 'kelvin@example.com' });
  ids.alice = await seedUser(db, ISS.t, { subject: 'alice', tenant: 'acme', email: null });
  ids.wadmin = await seedUser(db, ISS.w, { subject: 'admin', email: null });
  await db.query(`UPDATE users SET username = 'admin' WHERE id = $1`, [ids.admin]);
  await db.query(`UPDATE users SET username = 'Kelvin' WHERE id = $1`, [ids.kelvin]);
});

afterAll(async () => {
  extAuthz?.close();
  await app?.close();
  await db?.end();
  await idp?.stop();
});

describe('a subject that is not canonical is refused, never rewritten into another user', () => {
  const subjects: [string, string][] = [
    ['U+3000 ideographic space after', 'admin\u3000'],
    ['U+00A0 no-break space before', '\u00a0admin'],
    ['U+00A0 no-break space after', 'admin\u00a0'],
    ['U+FEFF BOM before', '\ufeffadmin'],
    ['U+FEFF BOM after', 'admin\ufeff'],
    ['an ASCII space after (trim is opt-in)', 'admin '],
    ['a tab before', '\tadmin'],
    ['U+2003 em space after', 'admin\u2003'],
    ['U+200B zero-width space inside', 'ad\u200bmin'],
    ['U+2060 word joiner inside', 'ad\u2060min'],
    ['U+00AD soft hyphen inside', 'ad\u00admin'],
    ['U+202E right-to-left override', 'admin\u202e'],
    ['U+2066 left-to-right isolate', '\u2066admin'],
    ['U+2028 line separator', 'ad\u2028min'],
    ['U+212A KELVIN SIGN (NFC would make it "Kelvin")', '\u212Aelvin'],
    ['a combining acute not composed (not NFC)', 'Kelvine\u0301'],
    ['U+FE0F variation selector', 'admin\ufe0f'],
  ];

  it.each(subjects)('external lookup: sub with %s -> SUBJECT_MALFORMED', async (_what, sub) => {
    await expectRefused(await token(ISS.x, { sub }), 'SUBJECT_MALFORMED');
  });

  it.each([
    ['U+3000 after', 'admin@example.com\u3000'],
    ['U+212A KELVIN SIGN', '\u212Aelvin@example.com'],
    ['U+FEFF before', '\ufeffadmin@example.com'],
  ])('email lookup: email with %s -> SUBJECT_MALFORMED', async (_what, email) => {
    await expectRefused(await token(ISS.e, { email }), 'SUBJECT_MALFORMED');
  });

  it.each([
    ['U+212A KELVIN SIGN', '\u212Aelvin'],
    ['U+00A0 after', 'admin\u00a0'],
    ['U+200B inside', 'ad\u200bmin'],
  ])('username lookup: username with %s -> SUBJECT_MALFORMED', async (_what, username) => {
    await expectRefused(await token(ISS.u, { preferred_username: username }), 'SUBJECT_MALFORMED');
  });

  it.each([
    ['U+3000 after', 'acme\u3000'],
    ['U+00A0 before', '\u00a0acme'],
    ['whitespace only', ' '],
    ['U+200B inside', 'ac\u200bme'],
    ['not NFC', 'acme\u0301'],
  ])('tenant claim with %s -> CLAIM_INVALID', async (_what, tid) => {
    await expectRefused(await token(ISS.t, { sub: 'alice', tid }), 'CLAIM_INVALID');
  });

  it.each([
    ['U+3000 after', 'svc-1\u3000'],
    ['U+FEFF before', '\ufeffsvc-1'],
  ])('service-account client id with %s -> SUBJECT_MALFORMED', async (_what, clientId) => {
    await expectRefused(
      await token(ISS.x, { sub: 'svc-1', token_use: 'machine', client_id: clientId }),
      'SUBJECT_MALFORMED',
    );
  });

  it('refuses JIT when a mapped identifier claim (email, username) is not canonical', async () => {
    await expectRefused(
      await token(ISS.x, { sub: 'newcomer', email: 'new@example.com\u3000' }),
      'PROVISIONING_REJECTED',
    );
    await expectRefused(
      await token(ISS.x, { sub: 'newcomer', preferred_username: '\u212Aelvin' }),
      'PROVISIONING_REJECTED',
    );
  });

  it('controls: the canonical subjects resolve to their own users on every transport', async () => {
    expect(await allTransports(await token(ISS.x, { sub: 'admin' }))).toEqual(
      resolvedEverywhere(ids.admin as string),
    );
    expect(await allTransports(await token(ISS.x, { sub: 'Kelvin' }))).toEqual(
      resolvedEverywhere(ids.kelvin as string),
    );
    expect(await allTransports(await token(ISS.u, { preferred_username: 'Kelvin' }))).toEqual(
      resolvedEverywhere(ids.kelvin as string),
    );
    expect(await allTransports(await token(ISS.t, { sub: 'alice', tid: 'acme' }))).toEqual(
      resolvedEverywhere(ids.alice as string),
    );
  });

  it('the documented folds: ASCII case of emails, ASCII spaces with trim: true', async () => {
    expect(await allTransports(await token(ISS.e, { email: 'Admin@Example.COM' }))).toEqual(
      resolvedEverywhere(ids.admin as string),
    );
    expect(await allTransports(await token(ISS.w, { sub: '  admin ' }))).toEqual(
      resolvedEverywhere(ids.wadmin as string),
    );
    await expectRefused(await token(ISS.w, { sub: 'admin\u3000' }), 'SUBJECT_MALFORMED');
    // Non-ASCII letters are compared exactly: a different address, not "kelvin@example.com".
    await expectRefused(await token(ISS.e, { email: 'kelv\u00edn@example.com' }), 'USER_NOT_FOUND');
  });

  it('property: random Unicode subjects on the real app are stored exactly or refused, never a 5xx', async () => {
    const TRICKY = ['\u3000', '\u00a0', '\ufeff', '\u200b', '\u212a', '\u0301', ' ', 'K', 'k'];
    const subject = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      fc
        .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 3 })), { maxLength: 6 })
        .map((p) => `p-${p.join('')}`),
    );
    const owners = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(subject, async (sub) => {
        const raw = await token(ISS.x, { sub });
        const http = await app.resolveHttp({ token: raw });
        const grpc = await app.resolveGrpc({ token: raw });
        expect(http.status === 200 || http.status === 401).toBe(true);
        if (http.status === 401) {
          expect(['SUBJECT_MALFORMED', 'SUBJECT_MISSING']).toContain(http.body.reason);
          expect(grpc).toMatchObject({ ok: false, reason: http.body.reason });
          return;
        }
        expect(grpc).toMatchObject({ ok: true });
        // Stored exactly as sent: the link's subject is the claim, byte for byte.
        const { rows } = await db.query<{ subject: string }>(
          `SELECT subject FROM external_identities WHERE user_id = $1 AND issuer = $2`,
          [http.body.principal.id, ISS.x],
        );
        expect(rows.map((r) => r.subject)).toEqual([sub]);
        // Distinct accepted subjects, distinct users.
        const owner = owners.get(http.body.principal.id);
        if (owner !== undefined) expect(owner).toBe(sub);
        owners.set(http.body.principal.id, sub);
      }),
      { numRuns: 150 },
    );
  });

  it('diagnose names the offending code point and its position', async () => {
    const res = await app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: await token(ISS.x, { sub: 'admin\u3000' }) }),
    });
    const subject = res.body.steps.find((s: { step: string }) => s.step === 'subject');
    expect(subject.status).toBe('fail');
    expect(subject.finding).toContain('SUBJECT_MALFORMED');
    expect(subject.finding).toContain('U+3000 (trailing whitespace) at code point 5');
    expect(res.body.verdict.reason).toBe('SUBJECT_MALFORMED');
  });
});

describe('existing data: stored identifiers the rules now refuse are listed, with a fix', () => {
  it('GET /admin/v1/audit/identifiers and `cli audit` name each one', async () => {
    // Written around the API, as a DBA or an older version could have stored them.
    const legacy = await seedUser(db, ISS.x, { subject: 'legacy\u3000', email: null });
    await db.query(`UPDATE users SET email = $2, username = $3 WHERE id = $1`, [
      legacy,
      '\u00c5sa@example.com',
      'bob\u00a0',
    ]);
    const res = await app.http('/admin/v1/audit/identifiers', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const mine = res.body.findings.filter((f: { userId: string }) => f.userId === legacy);
    expect(mine).toEqual([
      expect.objectContaining({
        table: 'external_identities',
        field: 'subject',
        value: '"legacy\u3000"',
        problem: 'U+3000 (trailing whitespace) at code point 6',
        fix: expect.stringContaining('--subject "legacy"'),
      }),
      expect.objectContaining({
        table: 'users',
        field: 'email',
        problem: expect.stringContaining('non-ASCII capital letters'),
      }),
      expect.objectContaining({
        table: 'users',
        field: 'username',
        problem: 'U+00A0 (trailing whitespace) at code point 3',
        fix: expect.stringContaining(`cli users update ${legacy} --username "bob"`),
      }),
    ]);
    // Canonical rows are not listed.
    expect(res.body.findings.some((f: { userId: string }) => f.userId === ids.admin)).toBe(false);
    const cli = await run('node', [CLI, 'audit'], {
      env: { PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: app.url },
    });
    expect(JSON.parse(cli.stdout).findings).toHaveLength(res.body.findings.length);
    expect(cli.stderr).toContain('stored identifier(s) need attention');
  });
});

describe('a time claim no date can hold is CLAIM_INVALID, before anything is written', () => {
  it.each([
    ['exp 1e308', { exp: 1e308 }],
    ['exp one second past year 9999', { exp: 253_402_300_800 }],
    ['exp past the JavaScript date range', { exp: 8_640_000_000_001 }],
    ['exp -1e308', { exp: -1e308 }],
    ['iat -1e308', { iat: -1e308 }],
    ['iat before year 1', { iat: -62_135_596_801 }],
    ['nbf 1e308', { nbf: 1e308 }],
  ])('%s on a JIT issuer', async (_what, times) => {
    await expectRefused(await token(ISS.x, { sub: 'time-traveller', ...times }), 'CLAIM_INVALID');
  });

  it('diagnose explains them instead of failing', async () => {
    for (const times of [{ exp: 1e308 }, { iat: -1e308 }, { nbf: 8_640_000_000_001 }]) {
      const raw = await token(ISS.x, { sub: 'time-traveller', ...times });
      const res = await app.http('/v1/diagnose', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: raw }),
      });
      expect({ times, status: res.status, reason: res.body.verdict?.reason }).toEqual({
        times,
        status: 200,
        reason: 'CLAIM_INVALID',
      });
      const decode = res.body.steps.find((s: { step: string }) => s.step === 'decode');
      expect(Object.values(decode.details.times).join()).toContain('not a date');
    }
  });

  it('controls: the last second of year 9999 is a valid exp', async () => {
    const http = await app.resolveHttp({
      token: await token(ISS.x, { sub: 'admin', exp: 253_402_300_799 }),
    });
    expect(http.status).toBe(200);
    expect(http.body.token.expiresAt).toBe('9999-12-31T23:59:59.000Z');
    const grpc = await app.resolveGrpc({
      token: await token(ISS.x, { sub: 'admin', exp: 253_402_300_799 }),
    });
    expect(grpc).toMatchObject({ ok: true });
    expect(grpc.ok && Number(grpc.response.token.expiresAt.seconds)).toBe(253_402_300_799);
  });
});

describe('a BOM or any other non-JSON byte in the header or payload is TOKEN_MALFORMED', () => {
  const header = () => ({ alg: 'RS256', typ: 'JWT', kid: keys.rsa.kid });
  const payload = () => claimsFor(ISS.x, AUD, now(), { sub: 'bom-user' });

  it.each([
    ['BOM before the header', () => `\ufeff${JSON.stringify(header())}`, undefined],
    ['BOM before the payload', undefined, () => `\ufeff${JSON.stringify(payload())}`],
    [
      'BOM between header members',
      () => JSON.stringify(header()).replace(',', ',\ufeff'),
      undefined,
    ],
    ['NBSP as JSON whitespace', undefined, () => `{\u00a0${JSON.stringify(payload()).slice(1)}`],
  ])('%s', async (_what, h, p) => {
    const raw = signWith(keys.rsa, h ? h() : header(), p ? p() : payload());
    await expectRefused(raw, 'TOKEN_MALFORMED');
  });
});

describe('decided, not defects: malleable ECDSA signatures and malformed protobuf', () => {
  const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

  it('a high-s twin of an ES256 token is the same token: same user, same jti revocation', async () => {
    const claims = claimsFor(ISS.x, AUD, now(), { sub: 'admin', jti: 'twin-jti' });
    const original = signWith(keys.ec, { alg: 'ES256', typ: 'JWT', kid: keys.ec.kid }, claims);
    const [h, p, sig] = original.split('.') as [string, string, string];
    const bytes = Buffer.from(sig, 'base64url');
    const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
    const twinS = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
    const twin = `${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), twinS]).toString('base64url')}`;
    expect(twin).not.toBe(original);
    expect(await allTransports(twin)).toEqual(resolvedEverywhere(ids.admin as string));
    expect(await allTransports(original)).toEqual(resolvedEverywhere(ids.admin as string));
    const revoke = await app.http('/admin/v1/tokens/revoke', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        issuer: ISS.x,
        jti: 'twin-jti',
        expiresAt: new Date((now() + 3600) * 1000).toISOString(),
      }),
    });
    expect(revoke.status).toBeLessThan(300);
    // The deny-list is keyed by (issuer, jti), not by the token's bytes: both spellings go.
    for (const raw of [twin, original]) {
      await waitFor(
        async () => (await app.resolveHttp({ token: raw })).body.reason === 'TOKEN_REVOKED',
      );
      expect(await allTransports(raw)).toEqual(refusedEverywhere('TOKEN_REVOKED'));
    }
  });

  it('malformed protobuf bytes are INVALID_ARGUMENT, not INTERNAL', async () => {
    const [host, port] = app.resolver.grpcAddress.split(':') as [string, string];
    for (const path of [
      '/identity.v1.SubjectResolver/ResolveSubject',
      '/envoy.service.auth.v3.Authorization/Check',
    ]) {
      // A tag with wire type 7, which does not exist (protobufjs throws on it).
      expect(await rawGrpcStatus(host, Number(port), path, Buffer.from([0x0f]))).toBe('3');
    }
    // The service is still fine afterwards.
    expect(await app.resolveGrpc({ token: await token(ISS.x, { sub: 'admin' }) })).toMatchObject({
      ok: true,
    });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends one gRPC frame of raw bytes over HTTP/2 and returns the grpc-status trailer. */
function rawGrpcStatus(host: string, port: number, path: string, message: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${host}:${port}`);
    session.on('error', reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let grpcStatus: string | undefined;
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status']);
    });
    stream.on('data', () => undefined);
    stream.on('end', () => {
      session.close();
      if (grpcStatus === undefined) reject(new Error('no grpc-status'));
      else resolve(grpcStatus);
    });
    stream.on('error', reject);
    stream.end(frame);
  });
}
