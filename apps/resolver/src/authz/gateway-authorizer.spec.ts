import { decodeJwt } from 'jose';
import { buildConfig, type ResolverConfig } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import { presentReason, REASON_CODES, ResolutionError } from '@resolver/reasons';
import type { Resolution, ResolveRequest, ResolveSubject } from '@resolver/resolution';
import { GatewayAuthorizer } from './gateway-authorizer';
import { IdentityAssertionSigner } from './identity-assertion';

const NOW = new Date('2026-06-01T12:00:00Z');
/** What the use case knows and a gateway's end user must never read. */
const INTERNAL =
  'user store call failed: SELECT * FROM users WHERE id = $1 -- ECONNREFUSED 10.1.2.3:5432 kid=prod-key-7';

const configWith = (authz: Record<string, unknown> = {}): ResolverConfig =>
  buildConfig(
    {
      database: { url: 'postgres://unused/unused' },
      server: { domain: 'resolver.example' },
      authz,
    },
    {},
    { source: 'unit', baseDir: '/' },
  );

const resolution = (principal: Partial<Resolution['principal']> = {}): Resolution => ({
  principal: {
    id: '6f1d3c1e-0000-4000-8000-000000000001',
    kind: 'user',
    tenantId: 'acme',
    email: 'ann@example.com',
    username: 'ann',
    displayName: 'Ann',
    roles: ['admin', 'ops'],
    status: 'active',
    attributes: {},
    ...principal,
  },
  token: {
    issuer: 'https://idp.example/',
    subject: 'okta-ann',
    audience: ['api'],
    expiresAt: new Date(NOW.getTime() + 600_000),
    jti: 'j-1',
    scopes: [],
  },
  source: 'STORE',
});

/** ResolveSubject as the authorizer sees it: one answer, or one failure, per request. */
class ScriptedResolver {
  readonly requests: ResolveRequest[] = [];
  constructor(private readonly outcome: () => Resolution) {}
  resolve(request: ResolveRequest): Promise<Resolution> {
    this.requests.push(request);
    return Promise.resolve().then(() => this.outcome());
  }
}

function authorizer(
  outcome: () => Resolution,
  config = configWith(),
  signer?: IdentityAssertionSigner,
): { authorizer: GatewayAuthorizer; resolver: ScriptedResolver } {
  const resolver = new ScriptedResolver(outcome);
  return {
    resolver,
    authorizer: new GatewayAuthorizer(config, resolver as unknown as ResolveSubject, signer),
  };
}
const refusing = (reason: (typeof REASON_CODES)[number]) => () => {
  throw new ResolutionError(reason, INTERNAL);
};
const request: ResolveRequest = {
  authorization: 'Bearer t',
  transport: 'forward_auth',
  context: { method: 'GET', uri: '/x' },
  requestId: 'r-1',
};

describe('GatewayAuthorizer: allowed', () => {
  it('answers the identity headers and asks the use case once with the request as given', async () => {
    const { authorizer: a, resolver } = authorizer(() => resolution());
    expect(await a.authorize(request)).toEqual({
      allowed: true,
      headers: {
        'x-user-id': '6f1d3c1e-0000-4000-8000-000000000001',
        'x-user-email': 'ann@example.com',
        'x-tenant-id': 'acme',
        'x-user-roles': 'admin,ops',
        'x-principal-kind': 'user',
      },
      remove: [],
      removeList: '',
      // A STORE answer: built for this request, never shared (see the sharing spec).
      shared: false,
    });
    expect(resolver.requests).toEqual([request]);
  });

  it('names every identity header it did not set, so the gateway strips client copies', async () => {
    const config = configWith({ headers: { userId: 'x-uid', tenant: 'x-org' } });
    const { authorizer: a } = authorizer(
      () => resolution({ kind: 'service', email: '', tenantId: '', roles: [] }),
      config,
    );
    expect(await a.authorize(request)).toEqual({
      allowed: true,
      headers: { 'x-uid': '6f1d3c1e-0000-4000-8000-000000000001', 'x-principal-kind': 'service' },
      remove: ['x-user-email', 'x-org', 'x-user-roles'],
      removeList: 'x-user-email,x-org,x-user-roles',
      shared: false,
    });
    expect(a.identityHeaderNames).toEqual([
      'x-uid',
      'x-user-email',
      'x-org',
      'x-user-roles',
      'x-principal-kind',
    ]);
  });

  it('with the assertion on: a signed assertion of the answer, and its header counts as identity', async () => {
    const config = configWith({ assertion: { enabled: true, audience: 'backend' } });
    const signer = await IdentityAssertionSigner.create(
      config.authz.assertion,
      new FixedClock(NOW),
    );
    const { authorizer: a } = authorizer(() => resolution({ email: '' }), config, signer);
    const answer = await a.authorize(request);
    if (!answer.allowed) throw new Error('refused');
    expect(answer.remove).toEqual(['x-user-email']);
    expect(decodeJwt(answer.headers['x-identity-assertion'] ?? '')).toMatchObject({
      sub: '6f1d3c1e-0000-4000-8000-000000000001',
      aud: 'backend',
      iss: 'urn:resolver.example',
    });
    expect(a.identityHeaderNames).toContain('x-identity-assertion');
    // Without a signer, a client's copy of that header is nobody's business here.
    expect(authorizer(() => resolution(), config).authorizer.identityHeaderNames).not.toContain(
      'x-identity-assertion',
    );
  });
});

describe('GatewayAuthorizer: refused', () => {
  it.each(REASON_CODES.map((r) => [r]))(
    "%s: the reason table's status, its challenge, a generic body, nothing internal",
    async (reason) => {
      const { authorizer: a } = authorizer(refusing(reason));
      const answer = await a.authorize(request);
      const { httpStatus, retryAfterSeconds } = presentReason(reason);
      const challenge =
        httpStatus !== 401
          ? {}
          : {
              'www-authenticate':
                reason === 'TOKEN_MISSING'
                  ? 'Bearer realm="resolver.example"'
                  : 'Bearer realm="resolver.example", error="invalid_token"',
            };
      expect(answer).toEqual({
        allowed: false,
        reason,
        status: httpStatus,
        headers: {
          ...challenge,
          ...(httpStatus === 503 ? { 'retry-after': String(retryAfterSeconds) } : {}),
        },
        body: { 401: 'Unauthorized\n', 403: 'Forbidden\n', 503: 'Service Unavailable\n' }[
          httpStatus
        ],
      });
      // What the end user receives (headers and body) says nothing of the cause or the code.
      const seen = JSON.stringify(answer.allowed ? {} : [answer.headers, answer.body]);
      for (const secret of ['SELECT', 'ECONNREFUSED', '10.1.2.3', 'prod-key-7', reason])
        expect(seen).not.toContain(secret);
    },
  );

  it('names the reason in the configured header only when exposeReasonHeader is on', async () => {
    const config = configWith({ exposeReasonHeader: true, reasonHeader: 'x-why' });
    const answer = await authorizer(refusing('USER_LOCKED'), config).authorizer.authorize(request);
    expect(answer).toEqual({
      allowed: false,
      reason: 'USER_LOCKED',
      status: 403,
      headers: { 'x-why': 'USER_LOCKED' },
      body: 'Forbidden\n',
    });
  });

  it('an unexpected error is not an answer: it propagates and the transport fails closed', async () => {
    const bug = new TypeError('cannot read properties of undefined');
    const { authorizer: a } = authorizer(() => {
      throw bug;
    });
    await expect(a.authorize(request)).rejects.toBe(bug);
  });

  it('a signer that fails is not an allow: the failure propagates', async () => {
    const config = configWith({ assertion: { enabled: true, audience: 'backend' } });
    const signer = await IdentityAssertionSigner.create(
      config.authz.assertion,
      new FixedClock(NOW),
    );
    const broken = new Error('sign failed');
    jest.spyOn(signer, 'sign').mockRejectedValue(broken);
    await expect(
      authorizer(() => resolution(), config, signer).authorizer.authorize(request),
    ).rejects.toBe(broken);
  });
});
