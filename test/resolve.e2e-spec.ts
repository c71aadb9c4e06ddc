// Longer than the ~400 lines the tree keeps, on purpose: this is one world whose last tests
// ("metrics and health") read what every earlier test left behind (ISSUER_UNKNOWN over gRPC,
// KEYS_UNAVAILABLE, JIT created and rejected, no label for an unknown issuer), so splitting it
// would either lose those assertions or repeat the requests that make them.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, SignJWT } from 'jose';
import type { Pool } from 'pg';
import { FixedClock } from '@resolver/observability';
import { REASON_TABLE, type ReasonCode } from '@resolver/reasons';
import { createTestDatabase, sqlPool } from './support/database';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { claimsFor, compact, makeKey, TokenFactory } from './support/token-factory';

const AUD = 'api://resolver-test';
const NOW = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000);
const HMAC_SECRET = 'an-hmac-secret-that-is-long-enough-32b!';

describe('ResolveSubject over HTTP and gRPC (real app, real Postgres, fixture JWKS)', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let db: Pool;
  const clock = new FixedClock(new Date(NOW * 1000));
  const iss = {
    jit: 'https://jit.idp.test/',
    nojit: 'https://nojit.idp.test',
    email: 'https://email.idp.test',
    id: 'https://id.idp.test',
    username: 'https://username.idp.test',
    tenant: 'https://tenant.idp.test',
    down: 'https://down.idp.test',
    hmac: 'https://hmac.idp.test',
    pem: 'https://pem.idp.test',
    discovery: '',
  };

  const token = (issuer: string, overrides: Record<string, unknown> = {}, options = {}) =>
    keys.sign(claimsFor(issuer, AUD, NOW, overrides), options);

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('main');
    const jwksUri = idp.publishJwks('main', keys.publicJwks());
    iss.discovery = idp.publishDiscovery('disc', keys.publicJwks());
    const dir = await mkdtemp(join(tmpdir(), 'resolver-keys-'));
    const pemPath = join(dir, 'ec.pem');
    await writeFile(pemPath, await exportSPKI(keys.ec.publicKey));
    const base = { audiences: [AUD], clockToleranceSeconds: 5 };
    const jit = {
      enabled: true,
      requiredClaims: ['email'],
      map: { email: 'email', name: 'displayName', roles: 'roles', dept: 'attributes.department' },
      defaultRoles: ['member'],
    };
    const databaseUrl = await createTestDatabase('resolve');
    db = sqlPool(databaseUrl);
    app = await ResolverHarness.start({
      databaseUrl,
      clock,
      env: { TEST_HMAC_SECRET: HMAC_SECRET },
      issuers: [
        { ...base, issuer: iss.jit, jwksUri, algorithms: ['RS256', 'ES256'], jit },
        { ...base, issuer: iss.nojit, jwksUri, algorithms: ['RS256'] },
        {
          ...base,
          issuer: iss.email,
          jwksUri,
          algorithms: ['RS256'],
          subject: { claim: 'email', lookup: 'email' },
        },
        { ...base, issuer: iss.id, jwksUri, algorithms: ['RS256'], subject: { lookup: 'id' } },
        {
          ...base,
          issuer: iss.username,
          jwksUri,
          algorithms: ['RS256'],
          subject: { claim: 'preferred_username', lookup: 'username', pattern: '^[a-z0-9._-]+$' },
        },
        {
          ...base,
          issuer: iss.tenant,
          jwksUri,
          algorithms: ['RS256'],
          tenant: { claim: 'tid' },
          jit,
        },
        {
          ...base,
          issuer: iss.down,
          jwksUri: 'http://127.0.0.1:9/jwks',
          algorithms: ['RS256'],
          jwks: { timeoutMs: 500 },
        },
        { ...base, issuer: iss.hmac, hmacSecretEnv: 'TEST_HMAC_SECRET', algorithms: ['HS256'] },
        { ...base, issuer: iss.pem, keys: [pemPath], algorithms: ['ES256'] },
        { ...base, issuer: iss.discovery, discovery: true, algorithms: ['RS256'] },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await idp?.stop();
  });

  /** Inserts a user (and optionally its external identity) as an operator would. */
  async function seedUser(
    fields: Record<string, unknown>,
    link?: { issuer: string; subject: string; tenant?: string },
  ) {
    const cols = Object.keys(fields);
    const { rows } = await db.query(
      `INSERT INTO users (${cols.join(', ')}, provenance) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}, 'admin') RETURNING id`,
      Object.values(fields),
    );
    const id = rows[0].id as string;
    if (link) {
      await db.query(
        'INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, $2, $3, $4)',
        [link.issuer, link.tenant ?? '', link.subject, id],
      );
    }
    return id;
  }

  async function expectReasonOnBothTransports(
    reason: ReasonCode,
    request: { token?: string; authorization?: string },
  ) {
    const http = await app.resolveHttp(request);
    expect({ status: http.status, reason: http.body.reason }).toEqual({
      status: REASON_TABLE[reason].httpStatus,
      reason,
    });
    expect(http.headers.get('content-type')).toContain('application/problem+json');
    if (http.status === 401) expect(http.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const grpc = await app.resolveGrpc(request);
    expect(grpc).toMatchObject({
      ok: false,
      code: REASON_TABLE[reason].grpcStatus,
      reason,
      domain: 'subject-resolver',
    });
    if (!grpc.ok) expect(grpc.message.startsWith(reason)).toBe(true);
  }

  describe('success', () => {
    it('resolves a linked user over HTTP (header and body) and gRPC (field and metadata)', async () => {
      const id = await seedUser(
        {
          email: 'ada@example.com',
          display_name: 'Ada',
          roles: ['admin'],
          attributes: { level: 3 },
        },
        { issuer: iss.nojit, subject: 'ada' },
      );
      const t = await token(iss.nojit, { sub: 'ada', scope: 'read write', jti: 'j-1' });

      const viaHeader = await app.resolveHttp({ token: t });
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body).toEqual({
        principal: {
          id,
          kind: 'user',
          tenantId: '',
          email: 'ada@example.com',
          username: '',
          displayName: 'Ada',
          roles: ['admin'],
          status: 'active',
          attributes: { level: '3' },
        },
        token: {
          issuer: iss.nojit,
          subject: 'ada',
          audience: [AUD],
          expiresAt: new Date((NOW + 600) * 1000).toISOString(),
          issuedAt: new Date((NOW - 10) * 1000).toISOString(),
          jti: 'j-1',
          scopes: ['read', 'write'],
        },
        source: 'STORE',
      });
      const viaBody = await app.resolveHttp({ body: { token: t } });
      expect(viaBody.body.principal.id).toBe(id);

      for (const request of [{ token: t }, { authorization: `Bearer ${t}` }]) {
        const grpc = await app.resolveGrpc(request);
        expect(grpc.ok).toBe(true);
        if (!grpc.ok) return;
        expect(grpc.response.principal).toMatchObject({
          id,
          email: 'ada@example.com',
          displayName: 'Ada',
          roles: ['admin'],
        });
        expect(grpc.response.token).toMatchObject({
          issuer: iss.nojit,
          subject: 'ada',
          jti: 'j-1',
          scopes: ['read', 'write'],
        });
        expect(grpc.response.token.expiresAt).toEqual({ seconds: String(NOW + 600), nanos: 0 });
        // Answered before over HTTP: the repeated token comes from memory.
        expect(grpc.response.source).toBe('CACHE');
      }
    });

    it('verifies ES256 tokens, static PEM keys, HMAC issuers and OIDC discovery', async () => {
      await seedUser({ email: 'multi@example.com' }, { issuer: iss.nojit, subject: 'multi' });
      for (const issuer of [iss.pem, iss.hmac, iss.discovery]) {
        await seedUser({ email: `u@${new URL(issuer).host}` }, { issuer, subject: 'multi' });
      }
      const pem = await keys.sign(claimsFor(iss.pem, AUD, NOW, { sub: 'multi' }), {
        key: keys.ec,
        kid: null,
      });
      expect((await app.resolveHttp({ token: pem })).status).toBe(200);
      const hmac = await new SignJWT(claimsFor(iss.hmac, AUD, NOW, { sub: 'multi' }))
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(HMAC_SECRET));
      expect((await app.resolveHttp({ token: hmac })).status).toBe(200);
      const disc = await token(iss.discovery, { sub: 'multi' });
      expect((await app.resolveGrpc({ token: disc })).ok).toBe(true);
    });
  });

  describe('lookup strategies', () => {
    it('email: ASCII case-insensitive, never trimmed or otherwise rewritten', async () => {
      const id = await seedUser({ email: 'Grace.Hopper@Example.com' });
      const res = await app.resolveHttp({
        token: await token(iss.email, { sub: 'x', email: 'GRACE.hopper@example.COM' }),
      });
      expect(res.status).toBe(200);
      expect(res.body.principal.id).toBe(id);
      // Padding is not canonical (issue #13): refused, not trimmed into Grace's address.
      const padded = await app.resolveHttp({
        token: await token(iss.email, { sub: 'x', email: '  GRACE.hopper@example.COM ' }),
      });
      expect(padded.body.reason).toBe('SUBJECT_MALFORMED');
    });

    it('id: users.id as a UUID; a non-UUID subject is SUBJECT_MALFORMED, not a store error', async () => {
      const id = await seedUser({ email: 'byid@example.com' });
      expect(
        (await app.resolveHttp({ token: await token(iss.id, { sub: id }) })).body.principal.id,
      ).toBe(id);
      await expectReasonOnBothTransports('SUBJECT_MALFORMED', {
        token: await token(iss.id, { sub: 'not-a-uuid' }),
      });
      await expectReasonOnBothTransports('USER_NOT_FOUND', {
        token: await token(iss.id, { sub: '00000000-0000-4000-8000-000000000000' }),
      });
    });

    it('username: exact match against the configured claim and pattern', async () => {
      const id = await seedUser({ username: 'linus' });
      const res = await app.resolveGrpc({
        token: await token(iss.username, { preferred_username: 'linus' }),
      });
      expect(res.ok && res.response.principal.id).toBe(id);
      await expectReasonOnBothTransports('SUBJECT_MALFORMED', {
        token: await token(iss.username, { preferred_username: 'Linus!' }),
      });
      await expectReasonOnBothTransports('SUBJECT_MISSING', {
        token: await token(iss.username, {}),
      });
    });

    it('tenant: the same subject in two tenants is two users', async () => {
      const a = await seedUser(
        { tenant: 'acme', email: 't@acme.test' },
        { issuer: iss.tenant, subject: 'same', tenant: 'acme' },
      );
      const b = await seedUser(
        { tenant: 'globex', email: 't@globex.test' },
        { issuer: iss.tenant, subject: 'same', tenant: 'globex' },
      );
      const ra = await app.resolveHttp({
        token: await token(iss.tenant, { sub: 'same', tid: 'acme' }),
      });
      const rb = await app.resolveHttp({
        token: await token(iss.tenant, { sub: 'same', tid: 'globex' }),
      });
      expect([ra.body.principal.id, rb.body.principal.id]).toEqual([a, b]);
      expect(ra.body.principal.tenantId).toBe('acme');
      await expectReasonOnBothTransports('TENANT_MISSING', {
        token: await token(iss.tenant, { sub: 'same' }),
      });
    });
  });

  describe('JIT provisioning', () => {
    it('provisions once from the claims, then answers from the store', async () => {
      const t = await token(iss.jit, {
        sub: 'new-1',
        email: 'New.One@Example.com',
        name: 'New One',
        roles: ['editor'],
        dept: 'R&D',
      });
      const first = await app.resolveHttp({ token: t });
      expect(first.status).toBe(200);
      expect(first.body.source).toBe('PROVISIONED');
      expect(first.body.principal).toMatchObject({
        email: 'new.one@example.com',
        displayName: 'New One',
        roles: ['member', 'editor'],
        attributes: { department: 'R&D' },
      });
      const second = await app.resolveGrpc({ token: t });
      // Cached on the way out — unless the insert's own change notification already dropped
      // the entry; either way it is the same user, not a second provisioning.
      expect(['CACHE', 'STORE']).toContain(second.ok && second.response.source);
      expect(second.ok && second.response.principal.id).toBe(first.body.principal.id);
      const { rows } = await db.query(
        `SELECT u.provenance FROM users u JOIN external_identities e ON e.user_id = u.id WHERE e.issuer = $1 AND e.subject = 'new-1'`,
        [iss.jit],
      );
      expect(rows).toEqual([{ provenance: 'jit' }]);
    });

    it('20 concurrent first requests for one new subject all succeed and leave exactly one user', async () => {
      const t = await token(iss.jit, { sub: 'burst', email: 'burst@example.com' });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 ? app.resolveGrpc({ token: t }) : app.resolveHttp({ token: t }),
        ),
      );
      const ids = results.map((r) =>
        'status' in r ? r.body.principal?.id : r.ok ? r.response.principal.id : undefined,
      );
      expect(ids.every((id) => typeof id === 'string')).toBe(true);
      expect(new Set(ids).size).toBe(1);
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM users WHERE lower(email) = 'burst@example.com'`,
      );
      expect(rows[0].n).toBe(1);
      const links = await db.query(
        `SELECT count(*)::int AS n FROM external_identities WHERE subject = 'burst'`,
      );
      expect(links.rows[0].n).toBe(1);
    });

    it('missing a required claim is PROVISIONING_REJECTED and creates nothing', async () => {
      await expectReasonOnBothTransports('PROVISIONING_REJECTED', {
        token: await token(iss.jit, { sub: 'no-email' }),
      });
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM external_identities WHERE subject = 'no-email'`,
      );
      expect(rows[0].n).toBe(0);
    });

    it('an email already held by an unlinked user is PROVISIONING_REJECTED (no silent account takeover)', async () => {
      await seedUser({ email: 'taken@example.com' });
      await expectReasonOnBothTransports('PROVISIONING_REJECTED', {
        token: await token(iss.jit, { sub: 'intruder', email: 'TAKEN@example.com' }),
      });
    });

    it('with JIT off, an unknown subject is USER_NOT_FOUND', async () => {
      await expectReasonOnBothTransports('USER_NOT_FOUND', {
        token: await token(iss.nojit, { sub: 'nobody' }),
      });
    });
  });

  describe('user status', () => {
    it.each([
      ['USER_DISABLED', { status: 'disabled' }],
      ['USER_LOCKED', { status: 'locked' }],
      ['USER_DELETED', { deleted_at: new Date() }],
      ['USER_DELETED', { deleted_at: new Date(), status: 'disabled' }],
    ] as const)('%s', async (reason, fields) => {
      const subject = `barred-${Math.random().toString(36).slice(2)}`;
      await seedUser(
        { email: `${subject}@example.com`, ...fields },
        { issuer: iss.nojit, subject },
      );
      await expectReasonOnBothTransports(reason, {
        token: await token(iss.nojit, { sub: subject }),
      });
    });
  });

  describe('every token and request reason', () => {
    const cases: [ReasonCode, () => Promise<{ token?: string; authorization?: string }>][] = [
      ['TOKEN_MISSING', async () => ({})],
      ['TOKEN_MISSING', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
      ['TOKEN_MISSING', async () => ({ authorization: 'Bearer ' })],
      ['TOKEN_MALFORMED', async () => ({ token: 'not-a-jwt' })],
      ['TOKEN_MALFORMED', async () => ({ token: 'a.b.c.d.e' })],
      [
        'TOKEN_MALFORMED',
        async () => ({ token: compact('{not json', { iss: iss.nojit }) + 'sig' }),
      ],
      [
        'TOKEN_TOO_LARGE',
        async () => ({ token: await token(iss.nojit, { pad: 'x'.repeat(9000) }) }),
      ],
      ['ISSUER_UNKNOWN', async () => ({ token: await token('https://evil.example') })],
      ['ISSUER_UNKNOWN', async () => ({ token: await token(iss.nojit, { iss: undefined }) })],
      [
        'ALGORITHM_NOT_ALLOWED',
        async () => ({ token: compact({ alg: 'none' }, claimsFor(iss.nojit, AUD, NOW)) }),
      ],
      [
        'ALGORITHM_NOT_ALLOWED',
        async () => ({ token: await token(iss.nojit, {}, { key: keys.ec }) }),
      ],
      [
        'SIGNING_KEY_NOT_FOUND',
        async () => ({ token: await token(iss.nojit, {}, { kid: 'no-such-kid' }) }),
      ],
      [
        'SIGNATURE_INVALID',
        async () => {
          const [h, , s] = (await token(iss.nojit)).split('.');
          const forged = Buffer.from(
            JSON.stringify(claimsFor(iss.nojit, AUD, NOW, { sub: 'admin' })),
          ).toString('base64url');
          return { token: `${h}.${forged}.${s}` };
        },
      ],
      [
        'SIGNATURE_INVALID',
        async () => {
          const other = await makeKey('RS256', keys.rsa.kid);
          return { token: await token(iss.nojit, {}, { key: other }) };
        },
      ],
      ['TOKEN_EXPIRED', async () => ({ token: await token(iss.nojit, { exp: NOW - 6 }) })],
      ['TOKEN_NOT_YET_VALID', async () => ({ token: await token(iss.nojit, { nbf: NOW + 6 }) })],
      [
        'AUDIENCE_MISMATCH',
        async () => ({ token: await token(iss.nojit, { aud: 'api://other' }) }),
      ],
      [
        'AUDIENCE_MISMATCH',
        async () => ({ token: await token(iss.nojit, { aud: ['api://a', 'api://b'] }) }),
      ],
      ['CLAIM_INVALID', async () => ({ token: await token(iss.nojit, { exp: undefined }) })],
      ['CLAIM_INVALID', async () => ({ token: await token(iss.nojit, { exp: 'tomorrow' }) })],
      ['SUBJECT_MISSING', async () => ({ token: await token(iss.nojit, { sub: undefined }) })],
      ['SUBJECT_MISSING', async () => ({ token: await token(iss.nojit, { sub: '' }) })],
      // Whitespace is not "no subject": a subject is validated, never trimmed (issue #13).
      ['SUBJECT_MALFORMED', async () => ({ token: await token(iss.nojit, { sub: '   ' }) })],
      ['SUBJECT_MALFORMED', async () => ({ token: await token(iss.nojit, { sub: 42 }) })],
      ['SUBJECT_MALFORMED', async () => ({ token: await token(iss.nojit, { sub: ['a'] }) })],
      [
        'SUBJECT_MALFORMED',
        async () => ({ token: await token(iss.nojit, { sub: 'x'.repeat(300) }) }),
      ],
      [
        'SUBJECT_MALFORMED',
        async () => ({ token: await token(iss.nojit, { sub: 'nul\u0000byte' }) }),
      ],
      ['KEYS_UNAVAILABLE', async () => ({ token: await token(iss.down) })],
    ];

    it.each(cases.map(([reason, make], i) => [`${reason} #${i}`, reason, make] as const))(
      '%s',
      async (_name, reason, make) => {
        await expectReasonOnBothTransports(reason, await make());
      },
    );

    it('accepts exp and nbf within the clock tolerance', async () => {
      await seedUser({ email: 'edge@example.com' }, { issuer: iss.nojit, subject: 'edge' });
      expect(
        (await app.resolveHttp({ token: await token(iss.nojit, { sub: 'edge', exp: NOW - 4 }) }))
          .status,
      ).toBe(200);
      expect(
        (await app.resolveHttp({ token: await token(iss.nojit, { sub: 'edge', nbf: NOW + 4 }) }))
          .status,
      ).toBe(200);
    });

    it('a non-string token field is TOKEN_MALFORMED, not a 500', async () => {
      const res = await app.resolveHttp({ body: { token: 12345 } });
      expect([res.status, res.body.reason]).toEqual([401, 'TOKEN_MALFORMED']);
    });

    it('a body the parser refuses is a 4xx problem document naming the cause, not a 500', async () => {
      const post = (body: string, type: string) =>
        fetch(`${app.url}/v1/resolve`, {
          method: 'POST',
          headers: { 'content-type': type, 'x-request-id': 'bad-body-1' },
          body,
        });
      for (const [res, status, detail] of [
        [await post('{"token": ', 'application/json'), 400, /JSON/],
        [await post('<token/>', 'application/xml'), 415, /media type/i],
        [await post(`{"token":"${'x'.repeat(70_000)}"}`, 'application/json'), 413, /body/i],
      ] as const) {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.headers.get('x-request-id')).toBe('bad-body-1');
        const problem = (await res.json()) as { status: number; detail: string };
        expect(problem.status).toBe(status);
        expect(problem.detail).toMatch(detail);
      }
    });
  });

  describe('metrics and health', () => {
    it('counts outcomes by reason, issuer and transport, with every reason present from boot', async () => {
      const metrics = (await app.http('/metrics')).body as string;
      expect(metrics).toMatch(
        /resolver_resolutions_total\{outcome="resolved",reason="NONE",issuer="https:\/\/nojit.idp.test",transport="http"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /resolver_resolutions_total\{outcome="refused",reason="ISSUER_UNKNOWN",issuer="unknown",transport="grpc"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /resolver_resolutions_total\{outcome="unavailable",reason="KEYS_UNAVAILABLE",issuer="https:\/\/down.idp.test",transport="http"\} [1-9]/,
      );
      for (const reason of Object.keys(REASON_TABLE))
        expect(metrics).toContain(`reason="${reason}"`);
      expect(metrics).not.toContain('evil.example');
      expect(metrics).toMatch(
        /resolver_jit_provisioning_total\{issuer="https:\/\/jit.idp.test\/",result="created"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /resolver_jit_provisioning_total\{issuer="https:\/\/jit.idp.test\/",result="rejected"\} [1-9]/,
      );
      expect(metrics).toContain(
        'resolver_resolution_duration_seconds_bucket{le="0.005",transport="grpc",outcome="resolved"}',
      );
      expect(metrics).toContain('process_cpu_seconds_total');
    });

    it('reports live and ready (database up, migrations applied)', async () => {
      expect((await app.http('/health/live')).status).toBe(200);
      const ready = await app.http('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details).toMatchObject({
        database: { status: 'up' },
        migrations: { status: 'up' },
        listener: { status: 'up', connected: true, cachesInUse: true },
        keys: { status: 'up' },
      });
      // One key state per configured issuer; an unreachable IdP is reported, not fatal.
      const keys = ready.body.details.keys.issuers;
      expect(Object.keys(keys).sort()).toEqual(Object.values(iss).sort());
      expect(keys[iss.hmac]).toEqual({ status: 'ok', source: 'hmac', keys: 1 });
      expect(keys[iss.down]).toMatchObject({ status: 'unavailable', source: 'jwks', keys: 0 });
    });

    it('serves gRPC health and reflection', async () => {
      const { HealthClient } = await import('./support/grpc-health-client');
      const health = new HealthClient(app.resolver.grpcAddress);
      try {
        expect(await health.check('identity.v1.SubjectResolver')).toBe('SERVING');
        expect(await health.listServices()).toEqual(
          expect.arrayContaining(['identity.v1.SubjectResolver']),
        );
      } finally {
        health.close();
      }
    });
  });
});
