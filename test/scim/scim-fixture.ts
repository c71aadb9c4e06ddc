import { createHash } from 'node:crypto';
import { createTestDatabase } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { type HttpResult, ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

export const AUD = 'api://scim';
export const OKTA_ISS = 'https://okta.scim.test';
export const ENTRA_ISS = 'https://entra.scim.test';
export const OKTA_TOKEN = 'okta-scim-credential-0123456789abcdef';
export const ENTRA_TOKEN = 'entra-scim-credential-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-secret-for-tests-0123456789';
export const SCIM = 'application/scim+json';
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Okta's "Create User" request body (developer.okta.com, SCIM 2.0 provisioning guide). */
export const oktaUser = (userName: string, externalId: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  externalId,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  groups: [],
  password: 'never-stored-1!',
  active: true,
});

/** Issuers and SCIM clients: Okta-style (externalId = sub) and Entra-style (tenant, oid). */
export function scimConfig(jwksUri: string) {
  const base = { jwksUri, audiences: [AUD], algorithms: ['RS256'] };
  return {
    issuers: [
      // JIT on: a user who signed in before SCIM was switched on is adopted, not duplicated.
      { ...base, issuer: OKTA_ISS, jit: { enabled: true, map: { email: 'email' } } },
      { ...base, issuer: ENTRA_ISS, tenant: { claim: 'tid' }, subject: { claim: 'oid' } },
    ],
    scim: {
      clients: [
        {
          id: 'okta',
          tokenSha256: sha256(OKTA_TOKEN),
          issuer: OKTA_ISS,
          groupRoles: { Engineering: ['engineer'], Admins: ['admin'] },
        },
        {
          id: 'entra',
          tokenSha256: sha256(ENTRA_TOKEN),
          issuer: ENTRA_ISS,
          tenant: 'tenant-1',
          subjectAttribute: 'externalId',
        },
      ],
    },
  };
}

/** A resolver with SCIM on, a JWKS fixture for its issuers, and helpers. */
export class ScimFixture {
  private constructor(
    readonly app: ResolverHarness,
    readonly idp: JwksServer,
    readonly keys: TokenFactory,
    readonly databaseUrl: string,
    readonly config: ReturnType<typeof scimConfig>,
  ) {}

  static async start(
    name: string,
    extra: Record<string, Record<string, unknown>> = {},
    logDestination?: { write(chunk: string): void },
  ) {
    const idp = await new JwksServer().start();
    const keys = await TokenFactory.create(name);
    const jwksUri = idp.publishJwks(name, keys.publicJwks());
    const databaseUrl = await createTestDatabase(name);
    const config = scimConfig(jwksUri);
    const app = await ResolverHarness.start({
      databaseUrl,
      issuers: config.issuers,
      config: { scim: config.scim, ...extra },
      env: { ADMIN_TOKEN },
      logDestination,
    });
    return new ScimFixture(app, idp, keys, databaseUrl, config);
  }

  scim(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    credential = OKTA_TOKEN,
  ): Promise<HttpResult> {
    return this.app.http(`/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${credential}`,
        accept: SCIM,
        ...(body !== undefined ? { 'content-type': SCIM } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  token(issuer: string, claims: Record<string, unknown>): Promise<string> {
    return this.keys.sign(claimsFor(issuer, AUD, Math.floor(Date.now() / 1000), claims));
  }

  async close(): Promise<void> {
    await this.app?.close();
    await this.idp?.stop();
  }
}

/** Polls `probe` until `check` holds, at most `ms` (the change notification is asynchronous). */
export async function within<T>(
  ms: number,
  probe: () => Promise<T>,
  check: (v: T) => boolean,
): Promise<T> {
  const start = Date.now();
  let last: T;
  do {
    last = await probe();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() - start <= ms);
  throw new Error(`not within ${ms} ms; last: ${JSON.stringify(last)}`);
}
