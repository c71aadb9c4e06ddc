import type { Pool } from 'pg';
import { REASON_TABLE, type ReasonCode } from '@resolver/reasons';
import { createTestDatabase, seedUser, sqlPool } from './database';
import { ExtAuthzClient } from './ext-authz-client';
import { provisionedRows } from './hostile';
import { JwksServer } from './jwks-server';
import { ResolverHarness } from './resolver-harness';
import { claimsFor, TokenFactory } from './token-factory';
import { perSuite, type SuiteWorld } from './per-suite';

/*
 * The world of the canonical-subject suites (test/security/canonical-subjects.e2e-spec.ts,
 * test/security/token-edges.e2e-spec.ts): two different subjects never become one user, and a
 * signed token never breaks the pipeline. Every token is signed with the issuer's real key, so
 * only the named defect stands between it and a user; each is sent on all four transports (HTTP
 * resolve, gRPC resolve, forward-auth, ext_authz) and must get the same reason, with no row
 * written. The issuers that refuse have JIT on, so anything that slipped through would create a
 * user and a link.
 */

export const AUD = 'api://canonical';
export const ADMIN_TOKEN = 'admin-secret-for-canonical-tests-0123';
export const ISS = {
  x: 'https://x.idp.test', // external lookup, JIT on, default normalisation, no pattern
  e: 'https://e.idp.test', // email lookup, JIT off
  u: 'https://u.idp.test', // username lookup, JIT off
  t: 'https://t.idp.test', // tenant claim required, JIT on
  w: 'https://w.idp.test', // trim: true (ASCII spaces only), JIT off
};
export const now = () => Math.floor(Date.now() / 1000);

export type Answer = { status: number; reason: string | undefined; id?: string };

export function refusedEverywhere(reason: ReasonCode): Record<string, Answer> {
  const { httpStatus, grpcStatus } = REASON_TABLE[reason];
  const http = { status: httpStatus, reason };
  return {
    http,
    grpc: { status: grpcStatus, reason },
    forwardAuth: http,
    extAuthz: { status: grpcStatus, reason },
  };
}

export function resolvedEverywhere(id: string): Record<string, Answer> {
  return {
    http: { status: 200, reason: undefined, id },
    grpc: { status: 0, reason: undefined, id },
    forwardAuth: { status: 200, reason: undefined, id },
    extAuthz: { status: 0, reason: undefined, id },
  };
}

/** The issuers, the seeded users and the four transports the canonical suites send to. */
export class CanonicalWorld implements SuiteWorld {
  idp?: JwksServer;
  keys!: TokenFactory;
  app!: ResolverHarness;
  extAuthz?: ExtAuthzClient;
  db!: Pool;
  /** The seeded users by name: admin, kelvin (subject "Kelvin"), alice (tenant acme), wadmin. */
  readonly ids: Record<string, string> = {};

  token(iss: string, overrides: Record<string, unknown>): Promise<string> {
    return this.keys.sign(claimsFor(iss, AUD, now(), overrides));
  }

  /** The same token on the four transports, as comparable answers. */
  async allTransports(raw: string): Promise<Record<string, Answer>> {
    const { app } = this;
    const http = await app.resolveHttp({ token: raw });
    const grpc = await app.resolveGrpc({ token: raw });
    const fwd = await app.http('/v1/authz', { headers: { authorization: `Bearer ${raw}` } });
    const check = await (this.extAuthz as ExtAuthzClient).check({
      authorization: `Bearer ${raw}`,
    });
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

  /** Refused with `reason` on every transport, and nothing written. */
  async expectRefused(raw: string, reason: ReasonCode): Promise<void> {
    const before = await provisionedRows(this.db);
    expect(await this.allTransports(raw)).toEqual(refusedEverywhere(reason));
    expect(await provisionedRows(this.db)).toEqual(before);
  }

  async start(name: string): Promise<void> {
    this.idp = await new JwksServer().start();
    this.keys = await TokenFactory.create('canon');
    const jwksUri = this.idp.publishJwks('canon', this.keys.publicJwks());
    const databaseUrl = await createTestDatabase(name);
    const db = (this.db = sqlPool(databaseUrl));
    const base = { jwksUri, audiences: [AUD], algorithms: ['RS256', 'ES256'] };
    this.app = await ResolverHarness.start({
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
    this.extAuthz = new ExtAuthzClient(this.app.resolver.grpcAddress);
    const ids = this.ids;
    ids.admin = await seedUser(db, ISS.x, { subject: 'admin', email: 'admin@example.com' });
    ids.kelvin = await seedUser(db, ISS.x, { subject: 'Kelvin', email: 'kelvin@example.com' });
    ids.alice = await seedUser(db, ISS.t, { subject: 'alice', tenant: 'acme', email: null });
    ids.wadmin = await seedUser(db, ISS.w, { subject: 'admin', email: null });
    await db.query(`UPDATE users SET username = 'admin' WHERE id = $1`, [ids.admin]);
    await db.query(`UPDATE users SET username = 'Kelvin' WHERE id = $1`, [ids.kelvin]);
  }

  /** Stops whatever `start` got to, so a failed start leaves nothing running. */
  async close(): Promise<void> {
    this.extAuthz?.close();
    await (this.app as ResolverHarness | undefined)?.close();
    await (this.db as Pool | undefined)?.end();
    await this.idp?.stop();
  }
}

export const canonicalWorld = (name: string): CanonicalWorld =>
  perSuite(new CanonicalWorld(), name);
