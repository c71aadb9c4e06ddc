import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { ExtAuthzClient } from '../support/ext-authz-client';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { type EventSpec, type MintOptions, SsfTransmitter } from '../support/ssf-transmitter';
import { claimsFor, TokenFactory } from '../support/token-factory';

export const ISSUER = 'https://ssf.idp.test';
export const AUD = 'api://ssf';
export const ADMIN_TOKEN = 'admin-secret-for-ssf-tests-0123456789';

/** The answer of one transport to one token: `OK`, or the reason it gave. */
export type Answer = string;

/**
 * The Shared Signals suites' world: an IdP (JWKS) whose tokens the resolver verifies, a
 * transmitter (test/support/ssf-transmitter.ts: its own keys, JWKS and discovery) bound to that
 * issuer, and one or more resolvers on one fresh database with push configured. Answers are read
 * on all four transports (HTTP /v1/resolve, gRPC ResolveSubject, forward-auth, ext_authz) with
 * the reason header on, and through /v1/diagnose.
 */
export class SsfWorld {
  idp!: JwksServer;
  keys!: TokenFactory;
  tx!: SsfTransmitter;
  other!: SsfTransmitter;
  db!: Pool;
  apps: ResolverHarness[] = [];
  extAuthz: ExtAuthzClient[] = [];
  databaseUrl = '';
  /** Every log line of the first replica (level info), parsed. */
  readonly logs: Record<string, unknown>[] = [];

  async start(name: string, replicas = 1, extra: Record<string, unknown> = {}): Promise<void> {
    this.idp = await new JwksServer().start();
    this.keys = await TokenFactory.create('ssf');
    this.tx = await SsfTransmitter.start();
    // A second transmitter bound to another issuer: its events must never act on ours.
    this.other = await SsfTransmitter.start();
    const jwksUri = this.idp.publishJwks('ssf', this.keys.publicJwks());
    this.databaseUrl = await createTestDatabase(name);
    const issuers = [
      {
        issuer: ISSUER,
        jwksUri,
        audiences: [AUD],
        algorithms: ['RS256'],
        jit: { map: { email: 'email', name: 'displayName', groups: 'roles' } },
      },
      { issuer: 'https://other.idp.test', jwksUri, audiences: [AUD], algorithms: ['RS256'] },
    ];
    const ssf = {
      transmitters: [
        {
          name: 'okta',
          issuer: this.tx.issuer,
          discovery: true,
          algorithms: ['ES256'],
          audience: this.tx.audience,
          resolver: { issuer: ISSUER },
          delivery: { push: { tokenSha256: sha256(this.tx.bearer) } },
          silenceAlertSeconds: 3600,
          ...extra,
        },
        {
          name: 'other',
          issuer: this.other.issuer,
          jwksUri: this.other.endpoints.jwks,
          algorithms: ['ES256'],
          audience: this.other.audience,
          resolver: { issuer: 'https://other.idp.test' },
          delivery: { push: { tokenSha256: sha256(this.other.bearer) } },
        },
      ],
    };
    for (let i = 0; i < replicas; i++) {
      const app = await ResolverHarness.start({
        databaseUrl: this.databaseUrl,
        issuers,
        env: { ADMIN_TOKEN },
        config: {
          ssf,
          authz: { exposeReasonHeader: true },
          ...(i === 0 && { logging: { level: 'info' } }),
        },
        ...(i === 0 && {
          logDestination: {
            write: (line: string) =>
              void this.logs.push(JSON.parse(line) as Record<string, unknown>),
          },
        }),
      });
      this.apps.push(app);
      this.extAuthz.push(new ExtAuthzClient(app.resolver.grpcAddress));
    }
    this.db = sqlPool(this.databaseUrl);
  }

  async close(): Promise<void> {
    for (const c of this.extAuthz) c.close();
    for (const app of this.apps) await app.close();
    await this.db?.end();
    await this.tx?.stop();
    await this.other?.stop();
    await this.idp?.stop();
  }

  get app(): ResolverHarness {
    return this.apps[0] as ResolverHarness;
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  seed(
    subject: string,
    extra: Parameters<typeof seedUser>[2] extends infer U ? Partial<U> : never = {},
  ) {
    return seedUser(this.db, ISSUER, { subject, ...extra });
  }

  /** A token of the IdP for `sub`, issued `ageSeconds` ago, with extra claims. */
  token(sub: string, ageSeconds = 10, extra: Record<string, unknown> = {}): Promise<string> {
    const now = this.now();
    return this.keys.sign(claimsFor(ISSUER, AUD, now, { sub, iat: now - ageSeconds, ...extra }));
  }

  /** Pushes a SET minted by the transmitter to replica `i`. */
  async push(
    event: EventSpec,
    options: MintOptions = {},
    i = 0,
  ): Promise<{ status: number; body: unknown; jti: string; set: string }> {
    const { jti, set } = await this.tx.mint(event, options);
    return { ...(await this.tx.push(this.pushUrl('okta', i), set)), jti, set };
  }

  pushUrl(name: string, i = 0): string {
    return `${(this.apps[i] as ResolverHarness).url}/ssf/push/${name}`;
  }

  /** The answer of each of the four transports of replica `i` to `token`. */
  async answers(token: string, i = 0): Promise<Record<string, Answer>> {
    const app = this.apps[i] as ResolverHarness;
    const http = await app.resolveHttp({ token });
    const grpc = await app.resolveGrpc({ token });
    const forward = await app.http('/v1/authz', { headers: { authorization: `Bearer ${token}` } });
    const check = await (this.extAuthz[i] as ExtAuthzClient).check({
      authorization: `Bearer ${token}`,
    });
    const denied = check.deniedResponse as
      { headers?: { header: { key: string; value: string } }[] } | undefined;
    return {
      http: http.status === 200 ? 'OK' : String((http.body as { reason?: string }).reason),
      grpc: grpc.ok ? 'OK' : String(grpc.reason),
      forwardAuth: forward.status === 200 ? 'OK' : String(forward.headers.get('x-auth-reason')),
      extAuthz:
        check.status.code === 0
          ? 'OK'
          : String(denied?.headers?.find((h) => h.header.key === 'x-auth-reason')?.header.value),
    };
  }

  /** The one answer all four transports agree on (fails when they disagree). */
  async answer(token: string, i = 0): Promise<Answer> {
    const all = await this.answers(token, i);
    const distinct = [...new Set(Object.values(all))];
    if (distinct.length !== 1) throw new Error(`transports disagree: ${JSON.stringify(all)}`);
    return distinct[0] as Answer;
  }

  /** The diagnosis of a token (admin API). */
  async diagnose(token: string, i = 0): Promise<any> {
    const res = await (this.apps[i] as ResolverHarness).http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return res.body;
  }

  /** The user row as stored. */
  async user(id: string): Promise<Record<string, any>> {
    const { rows } = await this.db.query(`SELECT * FROM users WHERE id = $1`, [id]);
    return rows[0] as Record<string, any>;
  }

  async metrics(i = 0): Promise<string> {
    return (await (this.apps[i] as ResolverHarness).http('/metrics')).body as string;
  }
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export const iss = (sub: string) => ({ format: 'iss_sub', iss: ISSUER, sub });
