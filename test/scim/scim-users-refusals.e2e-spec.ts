import { oktaUser, ScimFixture } from './scim-fixture';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Every refusal of the Users endpoints is a SCIM error document with its status and scimType:
 * credentials, schema violations, filters, unknown resources and every size bound. (The
 * Okta and Entra ID request sequences are in scim-users.e2e-spec.ts.)
 */
describe('SCIM Users: refusals', () => {
  let f: ScimFixture;
  beforeAll(async () => {
    f = await ScimFixture.start('scim_users_refusals');
  });
  afterAll(async () => {
    await f?.close();
  });

  it.each([
    [
      'no credential',
      () => f.scim('GET', '/Users', undefined, {}, 'wrong-credential'),
      401,
      undefined,
    ],
    [
      'the admin credential is not a SCIM credential',
      () => f.scim('GET', '/Users', undefined, {}, 'admin-secret-for-tests-0123456789'),
      401,
      undefined,
    ],
    [
      'unknown attribute',
      () => f.scim('POST', '/Users', { ...oktaUser('u1@example.com', 'x1'), shoeSize: 43 }),
      400,
      'invalidSyntax',
    ],
    [
      'unknown schema extension',
      () =>
        f.scim('POST', '/Users', {
          ...oktaUser('u2@example.com', 'x2'),
          'urn:acme:ext:User': { a: 1 },
        }),
      400,
      'invalidSyntax',
    ],
    [
      'wrong type',
      () => f.scim('POST', '/Users', { ...oktaUser('u3@example.com', 'x3'), active: 'maybe' }),
      400,
      'invalidValue',
    ],
    [
      'missing userName',
      () => f.scim('POST', '/Users', { schemas: [USER], externalId: 'x4' }),
      400,
      'invalidValue',
    ],
    [
      'a subject the issuer policy refuses',
      () =>
        f.scim('POST', '/Users', {
          schemas: [USER],
          userName: 'badsub@example.com',
          externalId: 7,
        }),
      400,
      'invalidValue',
    ],
    [
      'missing schemas',
      () => f.scim('POST', '/Users', { userName: 'u5', externalId: 'x5' }),
      400,
      'invalidSyntax',
    ],
    ['malformed JSON', () => f.scim('POST', '/Users', '{"schemas":'), 400, 'invalidSyntax'],
    [
      'filter that does not parse',
      () => f.scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`),
      400,
      'invalidFilter',
    ],
    [
      'filter on an unknown attribute',
      () => f.scim('GET', `/Users?filter=${encodeURIComponent('shoeSize gt 3')}`),
      400,
      'invalidFilter',
    ],
    [
      'filter with a wrong-typed value',
      () => f.scim('GET', `/Users?filter=${encodeURIComponent('active eq "yes"')}`),
      400,
      'invalidFilter',
    ],
    ['unknown endpoint', () => f.scim('GET', '/Users/a/b?x=1'), 404, undefined],
    [
      'unknown user',
      () => f.scim('GET', '/Users/00000000-0000-4000-8000-000000000000'),
      404,
      undefined,
    ],
    [
      'remove without a path',
      () =>
        f.scim('PATCH', '/Users/00000000-0000-4000-8000-000000000000', {
          schemas: [PATCH],
          Operations: [{ op: 'remove' }],
        }),
      400,
      'noTarget',
    ],
    [
      'too many operations',
      () =>
        f.scim('PATCH', '/Users/00000000-0000-4000-8000-000000000000', {
          schemas: [PATCH],
          Operations: Array.from({ length: 101 }, () => ({ op: 'add', path: 'title', value: 'x' })),
        }),
      400,
      'tooMany',
    ],
    [
      'too many values',
      () =>
        f.scim('POST', '/Users', {
          ...oktaUser('u6@example.com', 'x6'),
          emails: Array.from({ length: 101 }, (_, i) => ({ value: `${i}@x` })),
        }),
      400,
      'tooMany',
    ],
    [
      'oversized body',
      () =>
        f.scim('POST', '/Users', {
          ...oktaUser('u7@example.com', 'x7'),
          title: 'x'.repeat(70_000),
        }),
      413,
      undefined,
    ],
  ])('%s: SCIM error %s', async (_name, send, status, scimType) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect(res.body.status).toBe(String(status));
    expect(res.body.scimType).toBe(scimType);
    expect(typeof res.body.detail).toBe('string');
  });

  it('counts the unauthenticated requests under their own client', async () => {
    const metrics = await f.app.http('/metrics');
    expect(metrics.body).toMatch(
      /resolver_scim_requests_total\{client="unauthenticated",operation="users.list",result="unauthorized"\} \d+/,
    );
  });
});
