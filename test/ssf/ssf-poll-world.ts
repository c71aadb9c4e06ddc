import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { type SsfTransmitter, SsfTransmitter as Transmitter } from '../support/ssf-transmitter';
import { claimsFor, TokenFactory } from '../support/token-factory';

export const ADMIN_TOKEN = 'admin-secret-for-ssf-poll-0123456789';
export const AUDIENCE = 'https://api.example';

export interface PollSettings {
  readonly intervalSeconds?: number;
  readonly maxBackoffSeconds?: number;
  readonly maxEvents?: number;
  readonly returnImmediately?: boolean;
  readonly timeoutMs?: number;
}

/**
 * A resolver issuer with users, a Shared Signals transmitter (the fixture) bound to it with
 * poll delivery and discovery, and resolvers polling it (several share one database).
 */
export class SsfPollWorld {
  idp!: JwksServer;
  factory!: TokenFactory;
  issuer!: string;
  tx!: SsfTransmitter;
  databaseUrl!: string;
  sql!: Pool;
  readonly apps: ResolverHarness[] = [];

  constructor(private readonly poll: PollSettings = {}) {}

  async start(name: string): Promise<void> {
    this.factory = await TokenFactory.create('ssfpoll');
    this.idp = await new JwksServer().start();
    this.issuer = `${this.idp.base}/idp`;
    this.idp.publishJwks('idp', this.factory.publicJwks());
    this.tx = await Transmitter.start({ longPollMs: 200, redeliverAfterMs: 3_000 });
    this.databaseUrl = await createTestDatabase(name);
    this.sql = sqlPool(this.databaseUrl);
  }

  transmitterConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      name: 'tx',
      issuer: this.tx.issuer,
      discovery: true,
      algorithms: ['ES256'],
      audience: this.tx.audience,
      resolver: { issuer: this.issuer },
      delivery: {
        poll: {
          intervalSeconds: 1,
          maxBackoffSeconds: 4,
          maxEvents: 2,
          returnImmediately: true,
          timeoutMs: 1_000,
          ...this.poll,
          authorization: { env: 'SSF_AUTH' },
        },
      },
      stream: { authorization: { env: 'SSF_AUTH' } },
      ...overrides,
    };
  }

  async startResolver(transmitter = this.transmitterConfig()): Promise<ResolverHarness> {
    const app = await ResolverHarness.start({
      databaseUrl: this.databaseUrl,
      issuers: [
        {
          issuer: this.issuer,
          jwksUri: `${this.idp.base}/jwks/idp`,
          audiences: [AUDIENCE],
          algorithms: ['RS256'],
        },
      ],
      env: { ADMIN_TOKEN, SSF_AUTH: `Bearer ${this.tx.bearer}` },
      config: { ssf: { transmitters: [transmitter] } },
    });
    this.apps.push(app);
    return app;
  }

  async stopResolver(app: ResolverHarness): Promise<void> {
    this.apps.splice(this.apps.indexOf(app), 1);
    await app.close();
  }

  seed(subject: string): Promise<string> {
    return seedUser(this.sql, this.issuer, { subject });
  }

  token(subject: string): Promise<string> {
    return this.factory.sign(
      claimsFor(this.issuer, AUDIENCE, Math.floor(Date.now() / 1000), { sub: subject }),
    );
  }

  admin(app: ResolverHarness, method: string, path: string, body?: unknown) {
    return app.http(`/admin/v1/ssf/streams${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async close(): Promise<void> {
    for (const app of this.apps.splice(0)) await app.close().catch(() => undefined);
    await this.tx?.stop();
    await this.idp?.stop();
    await this.sql?.end();
  }
}
