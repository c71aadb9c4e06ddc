import { request as httpRequest } from 'node:http';
import { createTestDatabase, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { type HttpResult, ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';
import { ADMIN_TOKEN, AUD, SCIM, sha256 } from './scim-fixture';

/**
 * Three issuers in tenant '' (every issuer's default), each with its own SCIM client and JIT on:
 * A and B look users up by email (so their namespaces decide what a token finds), C by subject
 * (so its JIT users are linked, and its SCIM client can adopt them).
 */
export const ISS = {
  a: 'https://a.isolation.test',
  b: 'https://b.isolation.test',
  c: 'https://c.isolation.test',
} as const;
export const CREDENTIAL = {
  a: 'client-a-scim-credential-0123456789',
  b: 'client-b-scim-credential-0123456789',
  c: 'client-c-scim-credential-0123456789',
} as const;
export type Client = keyof typeof ISS;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A SCIM User body as an IdP sends it: userName and primary email alike. */
export const scimUser = (userName: string, externalId: string, extra: object = {}) => ({
  schemas: [USER_SCHEMA],
  userName,
  externalId,
  emails: [{ primary: true, value: userName, type: 'work' }],
  ...extra,
});

export class IsolationFixture {
  private constructor(
    readonly app: ResolverHarness,
    private readonly idp: JwksServer,
    private readonly keys: TokenFactory,
    readonly databaseUrl: string,
  ) {}

  static async start(name: string, scim: Record<string, unknown> = {}): Promise<IsolationFixture> {
    const idp = await new JwksServer().start();
    const keys = await TokenFactory.create(name);
    const jwksUri = idp.publishJwks(name, keys.publicJwks());
    const databaseUrl = await createTestDatabase(name);
    const base = { jwksUri, audiences: [AUD], algorithms: ['RS256'] };
    const jit = { enabled: true, map: { email: 'email', preferred_username: 'username' } };
    const byEmail = { claim: 'email', lookup: 'email' };
    const app = await ResolverHarness.start({
      databaseUrl,
      issuers: [
        { ...base, issuer: ISS.a, subject: byEmail, jit },
        { ...base, issuer: ISS.b, subject: byEmail, jit },
        { ...base, issuer: ISS.c, jit },
      ],
      config: {
        scim: {
          clients: (Object.keys(ISS) as Client[]).map((c) => ({
            id: `client-${c}`,
            tokenSha256: sha256(CREDENTIAL[c]),
            issuer: ISS[c],
          })),
          ...scim,
        },
      },
      env: { ADMIN_TOKEN },
    });
    return new IsolationFixture(app, idp, keys, databaseUrl);
  }

  /** A SCIM request of client `as`, as its connector sends it. */
  scim(as: Client, method: string, path: string, body?: unknown): Promise<HttpResult> {
    return this.app.http(`/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${CREDENTIAL[as]}`,
        accept: SCIM,
        ...(body !== undefined ? { 'content-type': SCIM } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** PATCH `active` (Okta's deactivate / reactivate). */
  setActive(as: Client, id: string, active: boolean): Promise<HttpResult> {
    return this.scim(as, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active } }],
    });
  }

  admin(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return this.app.http(`/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** A token of `issuer` with these claims. */
  token(issuer: string, claims: Record<string, unknown>): Promise<string> {
    return this.keys.sign(claimsFor(issuer, AUD, Math.floor(Date.now() / 1000), claims));
  }

  /** Resolves a token of `issuer` with these claims. */
  async resolve(issuer: string, claims: Record<string, unknown>): Promise<HttpResult> {
    return this.app.resolveHttp({ token: await this.token(issuer, claims) });
  }

  /** The database as a DBA sees it. */
  sql() {
    return sqlPool(this.databaseUrl);
  }

  async close(): Promise<void> {
    await this.app?.close();
    await this.idp?.stop();
  }
}

/**
 * One HTTP/1.1 request with exactly these headers (Host and X-Forwarded-Proto included, which
 * fetch would set itself), as curl -H sends them.
 */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
