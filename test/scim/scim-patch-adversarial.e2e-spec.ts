import { ENTRA_ISS, ENTRA_TOKEN, OKTA_ISS, ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Paths that walk into a prototype if anything follows them as object keys. */
const PATHS = [
  '__proto__.tid',
  '__proto__.x',
  '__proto__',
  'constructor.prototype.tid',
  'constructor.prototype',
  'constructor',
  'prototype',
  'name.__proto__',
  'name.constructor',
  'emails[type eq "work"].__proto__',
  'emails[__proto__ eq "x"].value',
  'members[value eq "x"].constructor',
  'members.__proto__',
  `${ENTERPRISE}:__proto__.tid`,
  `${ENTERPRISE}:constructor.prototype.tid`,
  `${USER}:__proto__`,
  `${GROUP}:constructor.prototype.tid`,
  'urn:x:__proto__:tid',
];

/**
 * Path-less values, written as JSON text so that `__proto__` is an own key exactly as a client
 * sends it (an object literal would set the prototype instead).
 */
const VALUES = [
  '{"__proto__.tid": "tenant-1"}',
  '{"constructor.prototype.tid": "tenant-1"}',
  '{"__proto__": {"tid": "tenant-1"}}',
  '{"constructor": {"prototype": {"tid": "tenant-1"}}}',
  '{"prototype": {"tid": "tenant-1"}}',
  '{"name": {"__proto__": {"tid": "tenant-1"}}}',
  '{"emails": [{"value": "a@b.c", "__proto__": {"tid": "tenant-1"}}]}',
  `{"${ENTERPRISE}": {"__proto__": {"tid": "tenant-1"}}}`,
  `{"${ENTERPRISE}": {"constructor.prototype.tid": "tenant-1"}}`,
  `{"${ENTERPRISE}:__proto__": {"tid": "tenant-1"}}`,
  '{"members": [{"value": "x", "constructor": {"prototype": {"tid": "tenant-1"}}}]}',
  '{"displayName": "ok", "__proto__.x": 1}',
];

const bodies = (): string[] => [
  ...PATHS.flatMap((path) =>
    ['add', 'replace', 'remove', 'Replace'].map((op) =>
      JSON.stringify({
        schemas: [PATCH],
        Operations: [{ op, path, ...(op === 'remove' ? {} : { value: { tid: 'tenant-1' } }) }],
      }),
    ),
  ),
  ...PATHS.map(
    (path) =>
      `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":${JSON.stringify(path)},"value":"tenant-1"}]}`,
  ),
  ...VALUES.flatMap((value) =>
    ['add', 'replace'].map(
      (op) => `{"schemas":["${PATCH}"],"Operations":[{"op":"${op}","value":${value}}]}`,
    ),
  ),
  ...VALUES.map(
    (value) =>
      `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"name","value":${value}}]}`,
  ),
];

const prototypes = () => ({
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  fn: Object.getOwnPropertyNames(Function.prototype).sort(),
  probes: [({} as Record<string, unknown>).tid, ({} as Record<string, unknown>).x],
});

/**
 * Issue 22 findings 1 and 2 as a client sends them: prototype-walking PATCH paths and value keys,
 * over real HTTP, as application/json and application/scim+json, on Users and Groups. Each is a
 * 400 SCIM error; afterwards no prototype changed (the resolver runs in this process), /metrics
 * still scrapes, a token without `tid` still does not resolve into tenant-1, and no resource
 * changed.
 */
describe('SCIM PATCH: prototype pollution attempts over HTTP', () => {
  let f: ScimFixture;
  const targets: { label: string; path: string; credential?: string; version?: string }[] = [];
  beforeAll(async () => {
    f = await ScimFixture.start('scim_patch_adversarial');
    const okta = await f.scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'victim@example.com',
      externalId: 'okta-victim',
      name: { givenName: 'V' },
      emails: [{ value: 'victim@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'D' },
    });
    const entra = await f.scim(
      'POST',
      '/Users',
      { schemas: [USER], userName: 'admin@contoso.com', externalId: 'oid-admin' },
      {},
      ENTRA_TOKEN,
    );
    const group = await f.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Admins',
      members: [{ value: okta.body.id }],
    });
    targets.push(
      { label: 'okta User', path: `/Users/${okta.body.id}` },
      { label: 'okta Group', path: `/Groups/${group.body.id}` },
      { label: 'entra User', path: `/Users/${entra.body.id}`, credential: ENTRA_TOKEN },
    );
    for (const t of targets)
      t.version = (await f.scim('GET', t.path, undefined, {}, t.credential)).body.meta.version;
  });
  afterAll(async () => {
    await f?.close();
  });

  it('every attack is a 400 SCIM error; nothing reaches a prototype; the service answers as before', async () => {
    const before = prototypes();
    // A token of the tenant-claiming issuer without its tid claim, before the attacks.
    const noTid = await f.token(ENTRA_ISS, { oid: 'oid-admin' });
    const refusedBefore = await f.app.resolveHttp({ token: noTid });
    expect(refusedBefore.status).not.toBe(200);

    const outcomes = new Map<string, number>();
    let sent = 0;
    for (const target of targets)
      for (const contentType of ['application/json', 'application/scim+json'])
        for (const body of bodies()) {
          const res = await f.scim(
            'PATCH',
            target.path,
            body,
            { 'content-type': contentType },
            target.credential,
          );
          sent++;
          const key = `${res.status} ${res.body?.scimType}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (
            res.status !== 400 ||
            res.body?.schemas?.[0] !== 'urn:ietf:params:scim:api:messages:2.0:Error'
          )
            throw new Error(
              `${target.label} ${contentType} ${body}: ${res.status} ${JSON.stringify(res.body)}`,
            );
          expect(['invalidPath', 'invalidValue', 'invalidSyntax', 'mutability']).toContain(
            res.body.scimType,
          );
        }
    expect(sent).toBeGreaterThan(500);
    expect([...outcomes.keys()].every((k) => k.startsWith('400 '))).toBe(true);

    expect(prototypes()).toEqual(before);
    // The scrape that used to throw (and end the process) after a polluted prototype.
    const metrics = await f.app.http('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(
      /resolver_scim_requests_total\{client="okta",operation="users.patch",result="invalidPath"\} \d+/,
    );
    // No token without tid resolves into tenant-1 now either: same answer as before the attacks.
    const refusedAfter = await f.app.resolveHttp({ token: noTid });
    expect({ status: refusedAfter.status, reason: refusedAfter.body.reason }).toEqual({
      status: refusedBefore.status,
      reason: refusedBefore.body.reason,
    });
    // The real users still resolve, and no resource changed.
    const okta = await f.app.resolveHttp({
      token: await f.token(OKTA_ISS, { sub: 'okta-victim' }),
    });
    expect(okta.status).toBe(200);
    expect(okta.body.principal.tenantId).toBe('');
    for (const t of targets) {
      const now = await f.scim('GET', t.path, undefined, {}, t.credential);
      expect({ label: t.label, version: now.body.meta.version }).toEqual({
        label: t.label,
        version: t.version,
      });
    }
    const ready = await f.app.http('/health/ready');
    expect(ready.status).toBe(200);
  });
});
