import { connect } from 'node:net';
import { ScimFixture, ADMIN_TOKEN, OKTA_TOKEN, SCIM } from '../scim/scim-fixture';

/**
 * The writer surfaces (admin API, import, diagnose, console data, SCIM) against the classes of
 * issue #22, sent as a client would send them:
 *  - credentials are checked before a body is read: a request that announces a body and sends
 *    none is answered 401 at once without the credential, and waits for its body with it;
 *  - application/scim+json is parsed only under /scim/v2, by a parser that refuses prototype keys;
 *  - what Postgres cannot hold (U+0000, lone surrogates, dates outside years 1-9999, values past
 *    what an index holds) is a 400 naming the field, never a 503 "store unavailable".
 */

let f: ScimFixture;
const admin = (method: string, path: string, body?: unknown, type = 'application/json') =>
  f.app.http(path, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'content-type': type } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  f = await ScimFixture.start('writer_surfaces');
});
afterAll(() => f?.close());

/**
 * Sends a request line and headers announcing `length` body bytes, and no body. Resolves with the
 * status line if the server answers within `ms`, or undefined if it is (rightly) waiting.
 */
function headersOnly(
  method: string,
  path: string,
  headers: Record<string, string>,
  length: number,
  ms: number,
): Promise<string | undefined> {
  const { port } = new URL(f.app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    const lines = Object.entries({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/json',
      'content-length': String(length),
      ...headers,
    }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  });
}

describe('credentials before the body', () => {
  const routes = [
    ['POST', '/admin/v1/users/import', 'admin'],
    ['POST', '/admin/v1/users', 'admin'],
    ['PATCH', '/admin/v1/users/00000000-0000-4000-8000-000000000000', 'admin'],
    ['POST', '/admin/v1/tokens/revoke', 'admin'],
    ['POST', '/v1/diagnose', 'admin'],
    ['POST', '/scim/v2/Users', 'scim'],
    ['PATCH', '/scim/v2/Users/00000000-0000-4000-8000-000000000000', 'scim'],
    ['POST', '/scim/v2/Groups/.search', 'scim'],
  ] as const;

  it.each(routes)(
    '%s %s: 401 without waiting for the body; with the credential it waits',
    async (method, path, kind) => {
      const anonymous = await headersOnly(method, path, {}, 8 * 1024 * 1024 - 1, 3_000);
      expect(anonymous).toBe('HTTP/1.1 401 Unauthorized');
      const wrong = await headersOnly(
        method,
        path,
        { authorization: 'Bearer not-the-credential-0123456789' },
        4096,
        3_000,
      );
      expect(wrong).toBe('HTTP/1.1 401 Unauthorized');
      const credential = kind === 'admin' ? ADMIN_TOKEN : OKTA_TOKEN;
      // The discriminating half: an authenticated request is read, so the server waits for it.
      const authorised = await headersOnly(
        method,
        path,
        { authorization: `Bearer ${credential}` },
        4096,
        400,
      );
      expect(authorised).toBeUndefined();
    },
  );

  it('an anonymous malformed body is 401 in the surface’s own shape, not a parse error', async () => {
    const problem = await f.app.http('/admin/v1/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    expect(problem.status).toBe(401);
    expect(problem.headers.get('content-type')).toContain('application/problem+json');
    expect(problem.headers.get('www-authenticate')).toBe('Bearer realm="resolver-admin"');
    const scim = await f.app.http('/scim/v2/Users', {
      method: 'POST',
      headers: { 'content-type': SCIM },
      body: '{"not json',
    });
    expect(scim.status).toBe(401);
    expect(scim.body).toMatchObject({ status: '401' });
    const metrics = (await f.app.http('/metrics')).body as string;
    expect(metrics).toMatch(
      /resolver_scim_requests_total\{client="unauthenticated",operation="users.create",result="unauthorized"\} [1-9]/,
    );
  });
});

describe('content types are scoped, and every parser refuses prototype keys', () => {
  it('application/scim+json is 415 outside /scim/v2', async () => {
    const res = await admin('POST', '/admin/v1/users', { username: 'ct-1' }, SCIM);
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it.each([
    ['application/json', '/admin/v1/users'],
    [SCIM, '/scim/v2/Users'],
  ])('%s: a __proto__ or constructor member is a 400 on %s', async (type, path) => {
    for (const body of [
      '{"username":"p1","__proto__":{"tid":"acme"}}',
      '{"userName":"p1","constructor":{"prototype":{"tid":"acme"}}}',
    ]) {
      const res = await f.app.http(path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${path.startsWith('/scim') ? OKTA_TOKEN : ADMIN_TOKEN}`,
          'content-type': type,
        },
        body,
      });
      expect(res.status).toBe(400);
    }
    expect(({} as Record<string, unknown>).tid).toBeUndefined();
  });
});

describe('what the store cannot hold is 400 naming the field, never 503', () => {
  const NUL = '\u0000';
  const LONE = '\ud800';

  it('admin: bodies, queries and path parameters', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/admin/v1/users', { username: 'n1', attributes: { a: `x${NUL}` } }, 'attributes.a'],
      ['POST', '/admin/v1/users', { username: 'n2', displayName: `A${NUL}` }, 'displayName'],
      ['POST', '/admin/v1/users', { username: 'n3', displayName: `A${LONE}` }, 'displayName'],
      ['POST', '/admin/v1/users', { username: 'n4', roles: [`r${NUL}`] }, 'roles[0]'],
      ['GET', `/admin/v1/users?email=${encodeURIComponent(`a${NUL}@x`)}`, undefined, 'email'],
      ['GET', `/admin/v1/users?tenant=${encodeURIComponent(NUL)}`, undefined, 'tenant'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await admin(method, path, body);
      expect({ path, status: res.status, field: res.body.field }).toEqual({
        path,
        status: 400,
        field,
      });
    }
  });

  it('admin: a revoked jti and its expiry', async () => {
    const revoke = (jti: string, expiresAt: string) =>
      admin('POST', '/admin/v1/tokens/revoke', { issuer: 'https://x.test', jti, expiresAt });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await revoke(`j${NUL}`, future)).body.field).toBe('jti');
    for (const date of ['0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2020', '0'])
      expect(await revoke('j1', date).then((r) => [r.status, r.body.field])).toEqual([
        400,
        'expiresAt',
      ]);
    // A jti is kept exactly as sent: spaces are part of it, never trimmed away.
    const spaced = await revoke(' j2 ', future);
    expect(spaced.status).toBe(200);
    expect(spaced.body.jti).toBe(' j2 ');
  });

  it('admin import: each unstorable row is refused on its own, the others are written', async () => {
    const res = await admin('POST', '/admin/v1/users/import', {
      rows: [
        { username: 'imp-ok' },
        { username: `imp${NUL}` },
        { username: 'imp-attr', attributes: { k: `v${LONE}` } },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results as { result: string; error?: string }[];
    expect(results.map((r) => r.result)).toEqual(['created', 'rejected', 'rejected']);
    expect(results[1]?.error).toMatch(/^username: contains U\+0000/);
    expect(results[2]?.error).toMatch(/^attributes\.k: contains a lone surrogate/);
  });

  it('admin: a value past what an index holds is 400, not 503', async () => {
    // Random CJK (3 bytes each in UTF-8) that no compression shrinks below the btree limit.
    const cjk = Array.from({ length: 1024 }, () =>
      String.fromCodePoint(0x4e00 + Math.floor(Math.random() * 0x5000)),
    ).join('');
    const res = await admin('POST', '/admin/v1/users', {
      username: 'long-link',
      identities: [{ issuer: `https://x.test/${'i'.repeat(100)}`, subject: cjk }],
    });
    expect(res.body).toMatchObject({ status: 400, detail: 'a value is out of range' });
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('SCIM: bodies, filters and dates', async () => {
    const user = (extra: Record<string, unknown>) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `scim-${Math.random().toString(36).slice(2)}`,
      externalId: `ext-${Math.random().toString(36).slice(2)}`,
      ...extra,
    });
    for (const [body, where] of [
      [user({ displayName: `A${NUL}` }), 'displayName'],
      [user({ name: { givenName: `B${LONE}` } }), 'name.givenName'],
      [user({ emails: [{ value: `c${NUL}@x.test`, primary: true }] }), 'emails[0].value'],
    ] as const) {
      const res = await f.scim('POST', '/Users', body);
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      expect(res.body.detail).toContain(where);
    }
    const filters = [
      `userName eq "a${NUL}"`,
      'meta.created gt "2020"',
      'meta.created gt "0"',
      'meta.lastModified lt "+275760-09-13T00:00:00Z"',
      'meta.created gt "0000-01-01T00:00:00Z"',
    ];
    for (const filter of filters) {
      const res = await f.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({
        filter,
        status: 400,
        retryAfter: null,
      });
    }
    const ok = await f.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('meta.created gt "2020-01-01T00:00:00Z"')}`,
    );
    expect(ok.status).toBe(200);
  });

  it('the process is alive and every metric scrapes', async () => {
    const metrics = await f.app.http('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/resolver_resolutions_total/);
  });
});
