import { buildConfig } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import type { Principal, Resolution, ResolutionSource, ResolveSubject } from '@resolver/resolution';
import { GatewayAuthorizer } from './gateway-authorizer';
import type { IdentityAssertionSigner } from './identity-assertion';

const config = buildConfig({}, {}, { source: 'defaults', baseDir: '/' });

function principal(over: Partial<Principal> = {}): Principal {
  return {
    id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    kind: 'user',
    tenantId: '',
    email: 'ada@example.com',
    username: 'ada',
    displayName: '',
    roles: [],
    status: 'active',
    attributes: {},
    ...over,
  };
}

const TOKEN = { issuer: 'https://idp', subject: 'ada', audience: ['api'], jti: '', scopes: [] };

/** A use case that answers with whatever the test queued, as ResolveSubject would. */
function resolverOf(next: () => Resolution): ResolveSubject {
  return { resolve: () => Promise.resolve(next()) } as unknown as ResolveSubject;
}

const resolution = (p: Principal, source: ResolutionSource): Resolution => ({
  principal: p,
  token: TOKEN,
  source,
});

const ask = (authorizer: GatewayAuthorizer) =>
  authorizer.authorize({ authorization: 'Bearer x', transport: 'forward_auth' });

describe('GatewayAuthorizer', () => {
  it('answers a cached principal with one shared answer, built once', async () => {
    const p = principal();
    const authorizer = new GatewayAuthorizer(
      config,
      resolverOf(() => resolution(p, 'CACHE')),
    );
    const first = await ask(authorizer);
    const second = await ask(authorizer);
    expect(second).toBe(first);
    expect(first).toMatchObject({
      allowed: true,
      shared: true,
      headers: { 'x-user-id': p.id, 'x-user-email': 'ada@example.com', 'x-principal-kind': 'user' },
      remove: ['x-tenant-id', 'x-user-roles'],
      removeList: 'x-tenant-id,x-user-roles',
    });
  });

  it('never answers a changed user with the headers of its previous record', async () => {
    // A change replaces the cached record, and with it the principal: a new key, a new answer.
    let p = principal();
    const authorizer = new GatewayAuthorizer(
      config,
      resolverOf(() => resolution(p, 'CACHE')),
    );
    const before = await ask(authorizer);
    p = principal({ email: 'ada@new.example', roles: ['admin'] });
    const after = await ask(authorizer);
    expect(after).not.toBe(before);
    expect(after).toMatchObject({
      headers: { 'x-user-email': 'ada@new.example', 'x-user-roles': 'admin' },
      remove: ['x-tenant-id'],
    });
  });

  it.each(['STORE', 'PROVISIONED'] as const)(
    'builds a fresh, unshared answer for a %s principal',
    async (source) => {
      const p = principal();
      const authorizer = new GatewayAuthorizer(
        config,
        resolverOf(() => resolution(p, source)),
      );
      const first = await ask(authorizer);
      const second = await ask(authorizer);
      expect(second).not.toBe(first);
      expect(first).toMatchObject({ allowed: true, shared: false });
      expect(second).toEqual(first);
    },
  );

  it('signs an assertion per request, never shared, even for a cached principal', async () => {
    const p = principal();
    let n = 0;
    const signer = {
      sign: () => Promise.resolve({ header: 'x-identity-assertion', value: `signed-${++n}` }),
    } as unknown as IdentityAssertionSigner;
    const authorizer = new GatewayAuthorizer(
      config,
      resolverOf(() => resolution(p, 'CACHE')),
      signer,
    );
    const first = await ask(authorizer);
    const second = await ask(authorizer);
    expect(first).toMatchObject({ shared: false, headers: { 'x-identity-assertion': 'signed-1' } });
    expect(second).toMatchObject({
      shared: false,
      headers: { 'x-identity-assertion': 'signed-2' },
    });
  });

  it('answers a refusal with its status and a generic body, not the allowed answer', async () => {
    const authorizer = new GatewayAuthorizer(
      config,
      resolverOf(() => {
        throw new ResolutionError('USER_DISABLED', 'disabled');
      }),
    );
    await expect(ask(authorizer)).resolves.toMatchObject({
      allowed: false,
      reason: 'USER_DISABLED',
      status: 403,
    });
  });
});
